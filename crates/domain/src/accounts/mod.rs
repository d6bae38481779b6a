//! Accounts: who a user is (email, username, role) and what a password must look like.

mod email;
mod ids;
mod password;
mod role;
mod user;
mod username;

pub use email::{Email, InvalidEmail};
pub use ids::{SessionId, UserId};
pub use password::{PasswordHash, PasswordRuleViolation, PlainPassword};
pub use role::{Role, UnknownRole};
pub use user::User;
pub use username::{InvalidUsername, Username};
