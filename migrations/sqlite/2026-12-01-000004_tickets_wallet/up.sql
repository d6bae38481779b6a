-- Tickets and the wallet's ledger (SQLite): the same tables and guards as PostgreSQL, with UUID
-- text ids, microsecond instants and 'YYYY-MM-DD' dates. Writes run in BEGIN IMMEDIATE
-- transactions; the conditional UPDATE on `seats` and the guarded upsert on `ticket_claims`
-- are what refuse a double hold, not the code around them.
CREATE TABLE concerts (
    id         TEXT   NOT NULL PRIMARY KEY,
    title      TEXT   NOT NULL,
    price      BIGINT NOT NULL CHECK (price >= 0),
    created_at BIGINT NOT NULL
);

CREATE TABLE performances (
    id           TEXT    NOT NULL PRIMARY KEY,
    concert_id   TEXT    NOT NULL REFERENCES concerts (id) ON DELETE CASCADE,
    starts_at    BIGINT  NOT NULL,
    local_date   TEXT    NOT NULL,
    seat_count   INTEGER NOT NULL CHECK (seat_count BETWEEN 1 AND 50),
    cancelled_at BIGINT
);
CREATE INDEX performances_concert_idx ON performances (concert_id, starts_at);

-- One row per seat: a hold or a sale is a conditional write of this row.
CREATE TABLE seats (
    performance_id  TEXT    NOT NULL REFERENCES performances (id) ON DELETE CASCADE,
    seat_number     INTEGER NOT NULL CHECK (seat_number >= 1),
    hold_id         TEXT,
    held_by         TEXT,
    hold_expires_at BIGINT,
    booking_id      TEXT,
    PRIMARY KEY (performance_id, seat_number)
) WITHOUT ROWID;

CREATE TABLE seat_holds (
    id             TEXT    NOT NULL PRIMARY KEY,
    performance_id TEXT    NOT NULL REFERENCES performances (id) ON DELETE CASCADE,
    concert_id     TEXT    NOT NULL REFERENCES concerts (id) ON DELETE CASCADE,
    seat_number    INTEGER NOT NULL CHECK (seat_number >= 1),
    user_id        TEXT    NOT NULL,
    price          BIGINT  NOT NULL CHECK (price >= 0),
    status         TEXT    NOT NULL CHECK (status IN ('held', 'released', 'paid', 'expired')),
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL
);
CREATE INDEX seat_holds_user_idx ON seat_holds (user_id);
CREATE INDEX seat_holds_status_idx ON seat_holds (status, expires_at);
CREATE INDEX seat_holds_performance_idx ON seat_holds (performance_id, status);

-- One hold or booking per user, concert and date.
CREATE TABLE ticket_claims (
    user_id         TEXT NOT NULL,
    concert_id      TEXT NOT NULL REFERENCES concerts (id) ON DELETE CASCADE,
    local_date      TEXT NOT NULL,
    hold_id         TEXT,
    hold_expires_at BIGINT,
    booking_id      TEXT,
    PRIMARY KEY (user_id, concert_id, local_date)
) WITHOUT ROWID;

CREATE TABLE bookings (
    id             TEXT    NOT NULL PRIMARY KEY,
    hold_id        TEXT    NOT NULL UNIQUE REFERENCES seat_holds (id),
    performance_id TEXT    NOT NULL REFERENCES performances (id) ON DELETE CASCADE,
    concert_id     TEXT    NOT NULL REFERENCES concerts (id) ON DELETE CASCADE,
    seat_number    INTEGER NOT NULL CHECK (seat_number >= 1),
    user_id        TEXT    NOT NULL,
    price          BIGINT  NOT NULL CHECK (price >= 0),
    payment_id     TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('confirmed', 'refunded')),
    created_at     BIGINT  NOT NULL,
    refunded_at    BIGINT
);
-- A seat is sold at most once.
CREATE UNIQUE INDEX bookings_seat_sold_key ON bookings (performance_id, seat_number)
    WHERE status = 'confirmed';
CREATE INDEX bookings_user_idx ON bookings (user_id, id DESC);

-- Only user wallets keep a balance; system accounts' balances are the sum of their entries.
CREATE TABLE ledger_accounts (
    id      TEXT   NOT NULL PRIMARY KEY,
    kind    TEXT   NOT NULL,
    owner   TEXT   NOT NULL,
    balance BIGINT,
    CONSTRAINT ledger_accounts_kind_owner_key UNIQUE (kind, owner),
    CONSTRAINT ledger_accounts_wallet_balance_check
        CHECK (kind <> 'user_wallet' OR (balance IS NOT NULL AND balance >= 0))
);

CREATE TABLE ledger_transfers (
    id           TEXT   NOT NULL PRIMARY KEY,
    kind         TEXT   NOT NULL CHECK (kind IN ('charge', 'payment', 'refund')),
    from_account TEXT   NOT NULL REFERENCES ledger_accounts (id),
    to_account   TEXT   NOT NULL REFERENCES ledger_accounts (id),
    amount       BIGINT NOT NULL CHECK (amount > 0),
    user_id      TEXT,
    reference    TEXT,
    created_at   BIGINT NOT NULL,
    CHECK (from_account <> to_account)
);

CREATE TABLE ledger_entries (
    sequence      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    transfer_id   TEXT    NOT NULL REFERENCES ledger_transfers (id),
    account_id    TEXT    NOT NULL REFERENCES ledger_accounts (id),
    amount        BIGINT  NOT NULL,
    balance_after BIGINT,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, sequence DESC);
CREATE INDEX ledger_entries_transfer_idx ON ledger_entries (transfer_id);
