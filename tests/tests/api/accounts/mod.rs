//! The account lifecycle over HTTP, on both backends: signup, login, refresh rotation and reuse
//! detection, logout, profile changes, deactivation, administration, token forgery, and the
//! login limits.

mod administration;
mod limits;
mod refresh_races;
mod sessions;
mod signup;
mod tokens;
