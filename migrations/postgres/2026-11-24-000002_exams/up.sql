-- Exams: one row per bookable hour with its confirmed count, and the reservations.
-- The CHECK on confirmed is the last line of defence against overselling; the store also locks
-- the rows it changes and checks capacity before writing.
CREATE TABLE exam_slots (
    starts_at timestamptz PRIMARY KEY,
    capacity  integer     NOT NULL CHECK (capacity > 0),
    confirmed integer     NOT NULL DEFAULT 0 CHECK (confirmed >= 0 AND confirmed <= capacity)
);

CREATE TABLE exam_reservations (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    headcount    integer     NOT NULL CHECK (headcount > 0),
    status       text        NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled')),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    cancelled_at timestamptz,
    CHECK (ends_at > starts_at)
);
CREATE INDEX exam_reservations_user_idx ON exam_reservations (user_id, id DESC);
CREATE INDEX exam_reservations_status_idx ON exam_reservations (status, id DESC);
CREATE INDEX exam_reservations_range_idx ON exam_reservations (starts_at, ends_at);

-- Aborts the statement it is called from (all of it, in autocommit): lets a confirm be one
-- statement that either takes its headcount in every covered hour or changes nothing.
CREATE FUNCTION reserva_abort(reason text) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = reason, ERRCODE = 'P0001';
END
$$;
