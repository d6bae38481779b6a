//! Typed identifiers, so a user id can never be passed where a session id is expected.

typed_id!(
    /// Identifies a user. Time-ordered (UUID v7), so ordering by id is ordering by creation.
    UserId
);
typed_id!(
    /// Identifies one login session: the family of refresh tokens that descend from one login.
    SessionId
);
