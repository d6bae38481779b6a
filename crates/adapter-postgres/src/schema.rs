//! Diesel's view of the tables in `migrations/postgres`.

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        is_active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Uuid,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    exam_slots (starts_at) {
        starts_at -> Timestamptz,
        capacity -> Int4,
        confirmed -> Int4,
    }
}

diesel::table! {
    exam_reservations (id) {
        id -> Uuid,
        user_id -> Uuid,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        headcount -> Int4,
        status -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        confirmed_at -> Nullable<Timestamptz>,
        cancelled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    concerts (id) {
        id -> Uuid,
        title -> Text,
        price -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    performances (id) {
        id -> Uuid,
        concert_id -> Uuid,
        starts_at -> Timestamptz,
        local_date -> Date,
        seat_count -> Int2,
        cancelled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    seats (performance_id, seat_number) {
        performance_id -> Uuid,
        seat_number -> Int2,
        hold_id -> Nullable<Uuid>,
        held_by -> Nullable<Uuid>,
        hold_expires_at -> Nullable<Timestamptz>,
        booking_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    seat_holds (id) {
        id -> Uuid,
        performance_id -> Uuid,
        concert_id -> Uuid,
        seat_number -> Int2,
        user_id -> Uuid,
        price -> Int8,
        status -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    ticket_claims (user_id, concert_id, local_date) {
        user_id -> Uuid,
        concert_id -> Uuid,
        local_date -> Date,
        hold_id -> Nullable<Uuid>,
        hold_expires_at -> Nullable<Timestamptz>,
        booking_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    bookings (id) {
        id -> Uuid,
        hold_id -> Uuid,
        performance_id -> Uuid,
        concert_id -> Uuid,
        seat_number -> Int2,
        user_id -> Uuid,
        price -> Int8,
        payment_id -> Uuid,
        status -> Text,
        created_at -> Timestamptz,
        refunded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    ledger_accounts (id) {
        id -> Uuid,
        kind -> Text,
        owner -> Uuid,
        balance -> Nullable<Int8>,
    }
}

diesel::table! {
    ledger_transfers (id) {
        id -> Uuid,
        kind -> Text,
        from_account -> Uuid,
        to_account -> Uuid,
        amount -> Int8,
        user_id -> Nullable<Uuid>,
        reference -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    ledger_entries (sequence) {
        sequence -> Int8,
        transfer_id -> Uuid,
        account_id -> Uuid,
        amount -> Int8,
        balance_after -> Nullable<Int8>,
        created_at -> Timestamptz,
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
diesel::joinable!(performances -> concerts (concert_id));
diesel::joinable!(seats -> performances (performance_id));
diesel::joinable!(seat_holds -> performances (performance_id));
diesel::joinable!(bookings -> performances (performance_id));
diesel::joinable!(ledger_entries -> ledger_transfers (transfer_id));
diesel::joinable!(ledger_entries -> ledger_accounts (account_id));
diesel::allow_tables_to_appear_in_same_query!(
    concerts,
    performances,
    seats,
    seat_holds,
    ticket_claims,
    bookings,
    ledger_accounts,
    ledger_transfers,
    ledger_entries
);

// `search_vector` (a generated tsvector) is left out: only raw SQL reads it.
diesel::table! {
    catalog_items (id) {
        id -> Uuid,
        kind -> Text,
        title -> Text,
        description -> Nullable<Text>,
        price -> Int8,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        category -> Nullable<Text>,
        skill_level -> Nullable<Text>,
        tutor_id -> Nullable<Uuid>,
        registration_count -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    catalog_payments (id) {
        id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        item_id -> Uuid,
        item_title -> Text,
        amount -> Int8,
        method -> Text,
        status -> Text,
        provider_reference -> Nullable<Text>,
        refund -> Text,
        created_at -> Timestamptz,
        paid_at -> Nullable<Timestamptz>,
        cancelled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    catalog_registrations (id) {
        id -> Uuid,
        payment_id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        item_id -> Uuid,
        status -> Text,
        registered_at -> Timestamptz,
        completed_at -> Nullable<Timestamptz>,
        cancelled_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(catalog_payments -> catalog_items (item_id));
diesel::joinable!(catalog_registrations -> catalog_payments (payment_id));
diesel::allow_tables_to_appear_in_same_query!(
    catalog_items,
    catalog_payments,
    catalog_registrations
);
