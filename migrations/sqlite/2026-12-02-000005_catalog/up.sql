-- The catalog (SQLite): the same tables, checks and partial indexes as PostgreSQL, with UUID
-- text ids and microsecond instants. The user's one live place per item is a partial unique
-- index on payments (a pending or paid payment holds it), mirrored by one on live
-- registrations; registration_count changes in the transaction of every settle and cancel.
-- Full-text search is an FTS5 table over (title, description) with catalog_items as its
-- external content, kept by the triggers below. `seq` is the rowid the index refers to: an
-- explicit INTEGER PRIMARY KEY, so VACUUM cannot renumber it under the index.
CREATE TABLE catalog_items (
    seq                INTEGER NOT NULL PRIMARY KEY,
    id                 TEXT    NOT NULL UNIQUE,
    kind               TEXT    NOT NULL CHECK (kind IN ('test', 'course')),
    title              TEXT    NOT NULL,
    description        TEXT,
    price              BIGINT  NOT NULL CONSTRAINT catalog_items_price_range
                                   CHECK (price BETWEEN 0 AND 100000000),
    starts_at          BIGINT  NOT NULL,
    ends_at            BIGINT  NOT NULL,
    category           TEXT,
    skill_level        TEXT,
    tutor_id           TEXT    REFERENCES users (id),
    registration_count BIGINT  NOT NULL DEFAULT 0
                                   CONSTRAINT catalog_items_count_not_negative
                                   CHECK (registration_count >= 0),
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    deleted_at         BIGINT,
    CONSTRAINT catalog_items_schedule_ordered CHECK (starts_at < ends_at),
    CONSTRAINT catalog_items_course_details
        CHECK ((kind = 'course') = (category IS NOT NULL AND skill_level IS NOT NULL
                                    AND tutor_id IS NOT NULL)),
    CONSTRAINT catalog_items_details_only_for_courses
        CHECK (kind = 'course' OR (category IS NULL AND skill_level IS NULL AND tutor_id IS NULL))
);
-- sort=created (and its keyset row comparison)
CREATE INDEX catalog_items_created_idx ON catalog_items (kind, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
-- sort=popular
CREATE INDEX catalog_items_popular_idx
    ON catalog_items (kind, registration_count DESC, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
-- a tutor's courses (the users foreign key)
CREATE INDEX catalog_items_tutor_idx ON catalog_items (tutor_id) WHERE tutor_id IS NOT NULL;

-- q=: the words of title and description, case-folded by the unicode61 tokenizer.
CREATE VIRTUAL TABLE catalog_items_search USING fts5 (
    title, description, content = 'catalog_items', content_rowid = 'seq'
);
CREATE TRIGGER catalog_items_search_insert AFTER INSERT ON catalog_items BEGIN
    INSERT INTO catalog_items_search (rowid, title, description)
        VALUES (new.seq, new.title, new.description);
END;
CREATE TRIGGER catalog_items_search_delete AFTER DELETE ON catalog_items BEGIN
    INSERT INTO catalog_items_search (catalog_items_search, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
END;
CREATE TRIGGER catalog_items_search_update AFTER UPDATE OF title, description ON catalog_items
BEGIN
    INSERT INTO catalog_items_search (catalog_items_search, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
    INSERT INTO catalog_items_search (rowid, title, description)
        VALUES (new.seq, new.title, new.description);
END;

CREATE TABLE catalog_payments (
    id                 TEXT   NOT NULL PRIMARY KEY,
    user_id            TEXT   NOT NULL REFERENCES users (id),
    kind               TEXT   NOT NULL CHECK (kind IN ('test', 'course')),
    item_id            TEXT   NOT NULL REFERENCES catalog_items (id),
    item_title         TEXT   NOT NULL,
    amount             BIGINT NOT NULL CHECK (amount >= 0),
    method             TEXT   NOT NULL
                           CHECK (method IN ('card', 'kakaopay', 'bank_transfer', 'wallet')),
    status             TEXT   NOT NULL
                           CHECK (status IN ('pending', 'paid', 'failed', 'cancelled')),
    provider_reference TEXT,
    refund             TEXT   NOT NULL DEFAULT 'not_due'
                           CHECK (refund IN ('not_due', 'pending', 'done')),
    created_at         BIGINT NOT NULL,
    paid_at            BIGINT,
    cancelled_at       BIGINT,
    CHECK ((status IN ('paid', 'cancelled')) = (paid_at IS NOT NULL)),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
-- the one live place of a user for an item
CREATE UNIQUE INDEX catalog_payments_one_live ON catalog_payments (user_id, item_id)
    WHERE status IN ('pending', 'paid');
-- GET /me/payments, newest paid first
CREATE INDEX catalog_payments_shown_idx ON catalog_payments (user_id, paid_at DESC, id DESC)
    WHERE status IN ('paid', 'cancelled');
-- the reconciler's two scans
CREATE INDEX catalog_payments_pending_idx ON catalog_payments (created_at)
    WHERE status = 'pending';
CREATE INDEX catalog_payments_refund_idx ON catalog_payments (cancelled_at)
    WHERE refund = 'pending';
-- the items foreign key (an item's payments)
CREATE INDEX catalog_payments_item_idx ON catalog_payments (item_id);

CREATE TABLE catalog_registrations (
    id            TEXT   NOT NULL PRIMARY KEY,
    payment_id    TEXT   NOT NULL UNIQUE REFERENCES catalog_payments (id),
    user_id       TEXT   NOT NULL REFERENCES users (id),
    kind          TEXT   NOT NULL CHECK (kind IN ('test', 'course')),
    item_id       TEXT   NOT NULL REFERENCES catalog_items (id),
    status        TEXT   NOT NULL
                      CHECK (status IN ('applied', 'enrolled', 'completed', 'cancelled')),
    registered_at BIGINT NOT NULL,
    completed_at  BIGINT,
    cancelled_at  BIGINT
);
-- at most one live registration per user and item; is_registered's index too
CREATE UNIQUE INDEX catalog_registrations_one_live ON catalog_registrations (user_id, item_id)
    WHERE status <> 'cancelled';
-- complete's "latest registration of the user for the item"
CREATE INDEX catalog_registrations_latest_idx
    ON catalog_registrations (user_id, item_id, registered_at DESC);
-- the audit's and recount's live registrations per item
CREATE INDEX catalog_registrations_item_idx ON catalog_registrations (item_id)
    WHERE status <> 'cancelled';
