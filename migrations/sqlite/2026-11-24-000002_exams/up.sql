-- Exams (SQLite): the same shape as PostgreSQL; writes run in BEGIN IMMEDIATE transactions.
CREATE TABLE exam_slots (
    starts_at BIGINT  NOT NULL PRIMARY KEY,
    capacity  INTEGER NOT NULL CHECK (capacity > 0),
    confirmed INTEGER NOT NULL DEFAULT 0 CHECK (confirmed >= 0 AND confirmed <= capacity)
);

CREATE TABLE exam_reservations (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    starts_at    BIGINT  NOT NULL,
    ends_at      BIGINT  NOT NULL,
    headcount    INTEGER NOT NULL CHECK (headcount > 0),
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    confirmed_at BIGINT,
    cancelled_at BIGINT,
    CHECK (ends_at > starts_at)
);
CREATE INDEX exam_reservations_user_idx ON exam_reservations (user_id, id DESC);
CREATE INDEX exam_reservations_status_idx ON exam_reservations (status, id DESC);
CREATE INDEX exam_reservations_range_idx ON exam_reservations (starts_at, ends_at);
