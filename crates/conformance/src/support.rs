//! Values for the conformance cases.

use chrono::{DateTime, SubsecRound, Utc};
use reserva_application::ports::accounts::NewUser;
use reserva_application::ports::security::RefreshTokenHash;
use reserva_domain::accounts::{Email, PasswordHash, Role, SessionId, UserId, Username};
use uuid::Uuid;

/// Now, at the microsecond precision every store keeps.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A unique short tag for names and keys.
pub(crate) fn tag() -> String {
    Uuid::new_v4().simple().to_string()[..10].to_owned()
}

pub(crate) fn user_id() -> UserId {
    UserId::from_uuid(Uuid::now_v7())
}

pub(crate) fn session_id() -> SessionId {
    SessionId::from_uuid(Uuid::now_v7())
}

pub(crate) fn token_hash() -> RefreshTokenHash {
    RefreshTokenHash::new(format!(
        "{}{}",
        Uuid::new_v4().simple(),
        Uuid::new_v4().simple()
    ))
}

/// A new member with a unique e-mail and username derived from `name`.
pub(crate) fn new_user(name: &str, role: Role) -> NewUser {
    let (Ok(email), Ok(username)) = (
        Email::parse(&format!("{name}@example.com")),
        Username::parse(name),
    ) else {
        panic!("conformance fixture {name:?} must be a valid e-mail local part and username");
    };
    NewUser {
        id: user_id(),
        email,
        username,
        password_hash: PasswordHash::from_phc(format!("$argon2id$v=19$fake${name}")),
        role,
        now: now(),
    }
}
