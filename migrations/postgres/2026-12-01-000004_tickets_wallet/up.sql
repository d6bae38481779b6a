-- Tickets and wallet. Seats are guarded by their own rows: one row per seat, held by one
-- conditional UPDATE (expiry is part of the condition, so a lapsed hold frees its seat at once);
-- "one hold or booking per user per concert and date" by the ticket_claims primary key; "sold at
-- most once" by a partial unique index on bookings. Only user wallets keep a balance column, so
-- no system account row is written by every charge or every payment.
CREATE TABLE concerts (
    id         uuid        PRIMARY KEY,
    title      text        NOT NULL,
    price      bigint      NOT NULL CONSTRAINT concerts_price_not_negative CHECK (price >= 0),
    created_at timestamptz NOT NULL
);

CREATE TABLE performances (
    id           uuid        PRIMARY KEY,
    concert_id   uuid        NOT NULL REFERENCES concerts (id) ON DELETE CASCADE,
    starts_at    timestamptz NOT NULL,
    local_date   date        NOT NULL,
    seat_count   smallint    NOT NULL CONSTRAINT performances_seat_count_range
                                 CHECK (seat_count BETWEEN 1 AND 50),
    cancelled_at timestamptz
);
-- a concert's performances; also serves concerts_on_sale (distinct concert ids in order)
CREATE INDEX performances_concert_idx ON performances (concert_id, starts_at);

CREATE TABLE seats (
    performance_id  uuid        NOT NULL REFERENCES performances (id) ON DELETE CASCADE,
    seat_number     smallint    NOT NULL CHECK (seat_number >= 1),
    hold_id         uuid,
    held_by         uuid,
    hold_expires_at timestamptz,
    booking_id      uuid,
    PRIMARY KEY (performance_id, seat_number),
    CONSTRAINT seats_hold_complete
        CHECK ((hold_id IS NULL) = (hold_expires_at IS NULL) AND (hold_id IS NULL) = (held_by IS NULL))
);

CREATE TABLE seat_holds (
    id             uuid        PRIMARY KEY,
    performance_id uuid        NOT NULL REFERENCES performances (id) ON DELETE CASCADE,
    concert_id     uuid        NOT NULL,
    seat_number    smallint    NOT NULL,
    user_id        uuid        NOT NULL,
    price          bigint      NOT NULL CHECK (price >= 0),
    status         text        NOT NULL
                       CHECK (status IN ('held', 'released', 'paid', 'expired')),
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);
CREATE INDEX seat_holds_user_idx ON seat_holds (user_id);
-- the sweeper's scan, and cancel's live holds of a performance
CREATE INDEX seat_holds_live_idx ON seat_holds (expires_at) WHERE status = 'held';
CREATE INDEX seat_holds_performance_idx ON seat_holds (performance_id) WHERE status = 'held';

CREATE TABLE ticket_claims (
    user_id         uuid NOT NULL,
    concert_id      uuid NOT NULL,
    local_date      date NOT NULL,
    hold_id         uuid,
    hold_expires_at timestamptz,
    booking_id      uuid,
    PRIMARY KEY (user_id, concert_id, local_date)
);

CREATE TABLE bookings (
    id             uuid        PRIMARY KEY,
    hold_id        uuid        NOT NULL CONSTRAINT bookings_hold_once UNIQUE,
    performance_id uuid        NOT NULL REFERENCES performances (id) ON DELETE CASCADE,
    concert_id     uuid        NOT NULL,
    seat_number    smallint    NOT NULL,
    user_id        uuid        NOT NULL,
    price          bigint      NOT NULL CHECK (price >= 0),
    payment_id     uuid        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('confirmed', 'refunded')),
    created_at     timestamptz NOT NULL,
    refunded_at    timestamptz
);
CREATE INDEX bookings_user_idx ON bookings (user_id, id DESC);
CREATE UNIQUE INDEX bookings_seat_sold_once ON bookings (performance_id, seat_number)
    WHERE status = 'confirmed';

-- An account's id is derived from its (kind, owner) by the store, so it is known without a read.
CREATE TABLE ledger_accounts (
    id      uuid   PRIMARY KEY,
    kind    text   NOT NULL CHECK (kind IN ('user_wallet', 'funding', 'concert_revenue')),
    owner   uuid   NOT NULL,
    balance bigint,
    CONSTRAINT ledger_accounts_one_per_owner UNIQUE (kind, owner),
    CONSTRAINT ledger_accounts_wallet_not_negative
        CHECK (kind <> 'user_wallet' OR (balance IS NOT NULL AND balance >= 0)),
    CHECK (kind = 'user_wallet' OR balance IS NULL)
);

-- The account references are checked at commit: a transfer is posted before its accounts'
-- rows are touched, so that concurrent posts of one id wait on the id, not on a wallet.
CREATE TABLE ledger_transfers (
    id           uuid        PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('charge', 'payment', 'refund')),
    from_account uuid        NOT NULL REFERENCES ledger_accounts (id) DEFERRABLE INITIALLY DEFERRED,
    to_account   uuid        NOT NULL REFERENCES ledger_accounts (id) DEFERRABLE INITIALLY DEFERRED,
    amount       bigint      NOT NULL CONSTRAINT ledger_transfers_amount_positive CHECK (amount > 0),
    user_id      uuid,
    reference    uuid,
    created_at   timestamptz NOT NULL,
    CHECK (from_account <> to_account)
);

CREATE TABLE ledger_entries (
    sequence      bigserial   PRIMARY KEY,
    transfer_id   uuid        NOT NULL REFERENCES ledger_transfers (id),
    account_id    uuid        NOT NULL REFERENCES ledger_accounts (id),
    amount        bigint      NOT NULL CHECK (amount <> 0),
    balance_after bigint,
    created_at    timestamptz NOT NULL
);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, sequence DESC);
CREATE INDEX ledger_entries_transfer_idx ON ledger_entries (transfer_id);

-- Aborts the statement it is called from (all of it, in autocommit): lets a hold be one
-- statement that either claims the date and takes the seat, or changes nothing.
CREATE FUNCTION reserva_tickets_abort(reason text) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = reason, ERRCODE = 'P0001';
END
$$;
