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

diesel::table! {
    concerts (id) {
        id -> Text,
        title -> Text,
        price -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    performances (id) {
        id -> Text,
        concert_id -> Text,
        starts_at -> BigInt,
        local_date -> Text,
        seat_count -> Integer,
        cancelled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    seats (performance_id, seat_number) {
        performance_id -> Text,
        seat_number -> Integer,
        hold_id -> Nullable<Text>,
        held_by -> Nullable<Text>,
        hold_expires_at -> Nullable<BigInt>,
        booking_id -> Nullable<Text>,
    }
}

diesel::table! {
    seat_holds (id) {
        id -> Text,
        performance_id -> Text,
        concert_id -> Text,
        seat_number -> Integer,
        user_id -> Text,
        price -> BigInt,
        status -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    ticket_claims (user_id, concert_id, local_date) {
        user_id -> Text,
        concert_id -> Text,
        local_date -> Text,
        hold_id -> Nullable<Text>,
        hold_expires_at -> Nullable<BigInt>,
        booking_id -> Nullable<Text>,
    }
}

diesel::table! {
    bookings (id) {
        id -> Text,
        hold_id -> Text,
        performance_id -> Text,
        concert_id -> Text,
        seat_number -> Integer,
        user_id -> Text,
        price -> BigInt,
        payment_id -> Text,
        status -> Text,
        created_at -> BigInt,
        refunded_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    ledger_accounts (id) {
        id -> Text,
        kind -> Text,
        owner -> Text,
        balance -> Nullable<BigInt>,
    }
}

diesel::table! {
    ledger_transfers (id) {
        id -> Text,
        kind -> Text,
        from_account -> Text,
        to_account -> Text,
        amount -> BigInt,
        user_id -> Nullable<Text>,
        reference -> Nullable<Text>,
        created_at -> BigInt,
    }
}

diesel::table! {
    ledger_entries (sequence) {
        sequence -> BigInt,
        transfer_id -> Text,
        account_id -> Text,
        amount -> BigInt,
        balance_after -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    catalog_items (id) {
        seq -> BigInt,
        id -> Text,
        kind -> Text,
        title -> Text,
        description -> Nullable<Text>,
        price -> BigInt,
        starts_at -> BigInt,
        ends_at -> BigInt,
        category -> Nullable<Text>,
        skill_level -> Nullable<Text>,
        tutor_id -> Nullable<Text>,
        registration_count -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    catalog_payments (id) {
        id -> Text,
        user_id -> Text,
        kind -> Text,
        item_id -> Text,
        item_title -> Text,
        amount -> BigInt,
        method -> Text,
        status -> Text,
        provider_reference -> Nullable<Text>,
        refund -> Text,
        created_at -> BigInt,
        paid_at -> Nullable<BigInt>,
        cancelled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    catalog_registrations (id) {
        id -> Text,
        payment_id -> Text,
        user_id -> Text,
        kind -> Text,
        item_id -> Text,
        status -> Text,
        registered_at -> BigInt,
        completed_at -> Nullable<BigInt>,
        cancelled_at -> Nullable<BigInt>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(exam_reservations -> users (user_id));
diesel::joinable!(performances -> concerts (concert_id));
diesel::joinable!(seats -> performances (performance_id));
diesel::joinable!(seat_holds -> performances (performance_id));
diesel::joinable!(bookings -> performances (performance_id));
diesel::joinable!(ledger_entries -> ledger_transfers (transfer_id));
diesel::joinable!(ledger_entries -> ledger_accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    refresh_tokens,
    exam_slots,
    exam_reservations,
    concerts,
    performances,
    seats,
    seat_holds,
    ticket_claims,
    bookings,
    ledger_accounts,
    ledger_transfers,
    ledger_entries,
    catalog_items,
    catalog_payments,
    catalog_registrations
);
