//! Query pieces that read the same in both dialects: the same diesel expressions over each
//! store's own schema module, with the store's own stored forms of ids and instants. Macros,
//! because the tables are each adapter's (`diesel::table!` types differ per backend).

/// The `SET` list of a user update: each given field, and `updated_at`. `$users` is the caller's
/// `users` table module (with `diesel::prelude::*` in scope); `$now` the stored form of the
/// instant.
#[macro_export]
macro_rules! user_changeset {
    ($users:ident, $changes:expr, $now:expr) => {
        (
            $changes
                .username
                .as_ref()
                .map(|username| $users::username.eq(username.as_str().to_owned())),
            $changes
                .password_hash
                .as_ref()
                .map(|hash| $users::password_hash.eq(hash.as_phc().to_owned())),
            $changes.role.map(|role| $users::role.eq(role.as_str())),
            $changes
                .is_active
                .map(|active| $users::is_active.eq(active)),
            $users::updated_at.eq($now),
        )
    };
}

/// Narrows a boxed `exam_reservations` select to a `ReservationQuery`'s filters. `$table` is the
/// caller's table module; `$instant` and `$id` turn a `DateTime<Utc>` and a `Uuid` into their
/// stored forms.
#[macro_export]
macro_rules! filter_reservations {
    ($select:ident, $table:ident, $query:expr, instant: $instant:expr, id: $id:expr) => {
        if let Some(user) = $query.user_id {
            $select = $select.filter($table::user_id.eq(($id)(user.as_uuid())));
        }
        if let Some(status) = $query.status {
            $select = $select.filter($table::status.eq(status.as_str()));
        }
        if let Some(from) = $query.from {
            $select = $select.filter($table::ends_at.gt(($instant)(from)));
        }
        if let Some(to) = $query.to {
            $select = $select.filter($table::starts_at.lt(($instant)(to)));
        }
        if let Some(before) = $query.before {
            $select = $select.filter($table::id.lt(($id)(before.as_uuid())));
        }
    };
}
