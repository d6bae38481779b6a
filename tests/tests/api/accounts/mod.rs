//! The account lifecycle over HTTP, on both backends: signup, login, refresh rotation and reuse
//! detection, logout, profile changes, deactivation, administration, and token forgery.

mod administration;
mod refresh_races;
mod sessions;
mod signup;
mod tokens;
