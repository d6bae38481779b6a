-- Commerce (SQLite): the same tables, checks and partial unique indexes as PostgreSQL, with UUID
-- text ids, microsecond instants and 0/1 booleans; curricula search is an FTS5 table (as the
-- catalog's), so curricula carry an explicit INTEGER PRIMARY KEY `seq` for it.
CREATE TABLE curricula (
    seq         INTEGER     NOT NULL PRIMARY KEY,
    id          TEXT        NOT NULL UNIQUE,
    name        TEXT        NOT NULL,
    description TEXT,
    price       BIGINT      NOT NULL CONSTRAINT curricula_price_range
                                CHECK (price BETWEEN 0 AND 100000000),
    category    TEXT        NOT NULL CHECK (category IN ('JavaScript', 'Python', 'Django', 'React',
                                                         'Vue', 'Node', 'AWS', 'Docker', 'DB')),
    skill_level TEXT        NOT NULL CHECK (skill_level IN ('beginner', 'intermediate',
                                                            'advanced')),
    tutor_id    TEXT        NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    deleted_at  BIGINT
);
-- the list, newest first (and its keyset row comparison)
CREATE INDEX curricula_created_idx ON curricula (created_at DESC, id DESC) WHERE deleted_at IS NULL;
-- q=: FTS5 over (name, description) with curricula as its external content, kept by triggers.
CREATE VIRTUAL TABLE curricula_search USING fts5 (
    name, description, content = 'curricula', content_rowid = 'seq'
);
CREATE TRIGGER curricula_search_insert AFTER INSERT ON curricula BEGIN
    INSERT INTO curricula_search (rowid, name, description) VALUES (new.seq, new.name, new.description);
END;
CREATE TRIGGER curricula_search_delete AFTER DELETE ON curricula BEGIN
    INSERT INTO curricula_search (curricula_search, rowid, name, description)
        VALUES ('delete', old.seq, old.name, old.description);
END;
CREATE TRIGGER curricula_search_update AFTER UPDATE OF name, description ON curricula BEGIN
    INSERT INTO curricula_search (curricula_search, rowid, name, description)
        VALUES ('delete', old.seq, old.name, old.description);
    INSERT INTO curricula_search (rowid, name, description) VALUES (new.seq, new.name, new.description);
END;
CREATE INDEX curricula_tutor_idx ON curricula (tutor_id);

-- A curriculum's courses, in order. Kept when the curriculum is soft-deleted (history).
CREATE TABLE curriculum_courses (
    curriculum_id TEXT    NOT NULL REFERENCES curricula (id),
    course_id     TEXT    NOT NULL REFERENCES catalog_items (id),
    position      INTEGER NOT NULL CHECK (position >= 0),
    PRIMARY KEY (curriculum_id, course_id),
    CONSTRAINT curriculum_courses_position_key UNIQUE (curriculum_id, position)
);
CREATE INDEX curriculum_courses_course_idx ON curriculum_courses (course_id);

CREATE TABLE billing_addresses (
    id             TEXT        NOT NULL PRIMARY KEY,
    user_id        TEXT        NOT NULL REFERENCES users (id),
    country        TEXT        NOT NULL,
    main_address   TEXT        NOT NULL,
    detail_address TEXT        NOT NULL,
    postal_code    TEXT        NOT NULL,
    is_default     BOOLEAN     NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
-- at most one default per user (the use case keeps "at least one" when addresses exist)
CREATE UNIQUE INDEX billing_addresses_one_default ON billing_addresses (user_id) WHERE is_default;
CREATE INDEX billing_addresses_user_idx ON billing_addresses (user_id, created_at DESC, id DESC);

-- The cart: a user's cart is their rows here (no cart row to create or lose).
CREATE TABLE cart_items (
    id            TEXT        NOT NULL PRIMARY KEY,
    user_id       TEXT        NOT NULL REFERENCES users (id),
    course_id     TEXT        REFERENCES catalog_items (id),
    curriculum_id TEXT        REFERENCES curricula (id),
    created_at    BIGINT NOT NULL,
    CONSTRAINT cart_items_exactly_one CHECK ((course_id IS NULL) <> (curriculum_id IS NULL))
);
CREATE UNIQUE INDEX cart_items_one_course ON cart_items (user_id, course_id)
    WHERE course_id IS NOT NULL;
CREATE UNIQUE INDEX cart_items_one_curriculum ON cart_items (user_id, curriculum_id)
    WHERE curriculum_id IS NOT NULL;
CREATE INDEX cart_items_course_idx ON cart_items (course_id) WHERE course_id IS NOT NULL;
CREATE INDEX cart_items_curriculum_idx ON cart_items (curriculum_id) WHERE curriculum_id IS NOT NULL;

CREATE TABLE orders (
    id           TEXT        NOT NULL PRIMARY KEY,
    user_id      TEXT        NOT NULL REFERENCES users (id),
    status       TEXT        NOT NULL
                     CHECK (status IN ('pending', 'paid', 'cancelled', 'refunded', 'failed')),
    total        BIGINT      NOT NULL CHECK (total >= 0),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    paid_at      BIGINT,
    cancelled_at BIGINT,
    refunded_at  BIGINT,
    CHECK ((status IN ('paid', 'refunded')) = (paid_at IS NOT NULL)),
    CHECK ((status = 'refunded') = (refunded_at IS NOT NULL)),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
-- at most one pending order per user (a new order cancels the old one in its transaction)
CREATE UNIQUE INDEX orders_one_pending ON orders (user_id) WHERE status = 'pending';
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC, id DESC);

-- What was ordered, with its title and price as they were at order time.
CREATE TABLE order_items (
    id            TEXT    NOT NULL PRIMARY KEY,
    order_id      TEXT    NOT NULL REFERENCES orders (id),
    position      INTEGER NOT NULL CHECK (position >= 0),
    course_id     TEXT    REFERENCES catalog_items (id),
    curriculum_id TEXT    REFERENCES curricula (id),
    title         TEXT    NOT NULL,
    price         BIGINT  NOT NULL CHECK (price >= 0),
    CONSTRAINT order_items_exactly_one CHECK ((course_id IS NULL) <> (curriculum_id IS NULL)),
    CONSTRAINT order_items_position_key UNIQUE (order_id, position)
);
CREATE INDEX order_items_course_idx ON order_items (course_id) WHERE course_id IS NOT NULL;
CREATE INDEX order_items_curriculum_idx ON order_items (curriculum_id) WHERE curriculum_id IS NOT NULL;

-- A checkout: one payment at the provider, two-phase. `id` is the idempotency key at the
-- provider. ready → paid | failed | cancelled | expired | superseded; paid → refunded. An approval
-- that arrives for a payment that is no longer ready (superseded, expired, its order cancelled)
-- is refunded: `refund` = 'pending' until the provider confirms it, then 'done'. The billing
-- address is copied, so a receipt never changes when the address is edited or deleted.
CREATE TABLE order_payments (
    id                 TEXT        NOT NULL PRIMARY KEY,
    order_id           TEXT        NOT NULL REFERENCES orders (id),
    user_id            TEXT        NOT NULL REFERENCES users (id),
    method             TEXT        NOT NULL CHECK (method IN ('card', 'kakaopay', 'bank_transfer')),
    amount             BIGINT      NOT NULL CHECK (amount >= 0),
    status             TEXT        NOT NULL
                           CHECK (status IN ('ready', 'paid', 'failed', 'cancelled', 'expired',
                                             'superseded', 'refunded')),
    provider_reference TEXT,
    approval_url       TEXT,
    refund             TEXT        NOT NULL DEFAULT 'not_due'
                           CHECK (refund IN ('not_due', 'pending', 'done')),
    callback_result    TEXT        CHECK (callback_result IN ('approved', 'cancelled', 'failed')),
    billing_country        TEXT,
    billing_main_address   TEXT,
    billing_detail_address TEXT,
    billing_postal_code    TEXT,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    paid_at            BIGINT,
    refunded_at        BIGINT,
    CHECK ((status IN ('paid', 'refunded')) = (paid_at IS NOT NULL)),
    CHECK ((status = 'refunded') = (refunded_at IS NOT NULL))
);
-- one open checkout per order (a second checkout supersedes the first in its transaction)
CREATE UNIQUE INDEX order_payments_one_ready ON order_payments (order_id) WHERE status = 'ready';
-- an order is paid at most once
CREATE UNIQUE INDEX order_payments_one_paid ON order_payments (order_id)
    WHERE status IN ('paid', 'refunded');
-- receipts, newest paid first
CREATE INDEX order_payments_receipts_idx ON order_payments (user_id, paid_at DESC, id DESC)
    WHERE status IN ('paid', 'refunded');
-- the expiry sweep and the refund retries
CREATE INDEX order_payments_expiry_idx ON order_payments (expires_at) WHERE status = 'ready';
CREATE INDEX order_payments_refund_idx ON order_payments (updated_at) WHERE refund = 'pending';
CREATE INDEX order_payments_order_idx ON order_payments (order_id);

-- Access to a course, granted by a paid order (a curriculum: each of its courses) for 730 days,
-- withdrawn (revoked_at) by a refund. has_access(user, course, now): a row with
-- revoked_at IS NULL AND granted_at <= now < expires_at.
CREATE TABLE course_access (
    user_id    TEXT        NOT NULL REFERENCES users (id),
    course_id  TEXT        NOT NULL REFERENCES catalog_items (id),
    order_id   TEXT        NOT NULL REFERENCES orders (id),
    granted_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (user_id, course_id, order_id),
    CHECK (granted_at < expires_at)
);
CREATE INDEX course_access_live_idx ON course_access (user_id, expires_at DESC)
    WHERE revoked_at IS NULL;
CREATE INDEX course_access_order_idx ON course_access (order_id);
CREATE INDEX course_access_course_idx ON course_access (course_id);

