//! Diesel's view of the tables in `migrations/sqlite`.

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        is_active -> Bool,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    exam_slots (starts_at) {
        starts_at -> BigInt,
        capacity -> Integer,
        confirmed -> Integer,
    }
}

diesel::table! {
    exam_reservations (id) {
        id -> Text,
        user_id -> Text,
        starts_at -> BigInt,
        ends_at -> BigInt,
        headcount -> Integer,
        status -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        confirmed_at -> Nullable<BigInt>,
        cancelled_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(exam_reservations -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    refresh_tokens,
    exam_slots,
    exam_reservations
);
