-- The catalog: tests and courses, their payments and registrations. The user's one live place
-- per item is a partial unique index on payments (a pending or paid payment holds it, so ten
-- identical applies reach the gateway once), mirrored by one on live registrations;
-- registration_count is changed in the transaction of every settle and cancel. Lists read the
-- partial indexes over items that are not deleted, in the list's own order.
CREATE TABLE catalog_items (
    id                 uuid        PRIMARY KEY,
    kind               text        NOT NULL CHECK (kind IN ('test', 'course')),
    title              text        NOT NULL,
    description        text,
    price              bigint      NOT NULL CONSTRAINT catalog_items_price_range
                                       CHECK (price BETWEEN 0 AND 100000000),
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL,
    category           text,
    skill_level        text,
    tutor_id           uuid        REFERENCES users (id),
    registration_count bigint      NOT NULL DEFAULT 0
                                       CONSTRAINT catalog_items_count_not_negative
                                       CHECK (registration_count >= 0),
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    deleted_at         timestamptz,
    -- ASCII punctuation becomes a space first, so `vue.js`, `a@b.com` or `3.5` index as the
    -- separate words a search splits them into (the parser alone keeps them as one host, e-mail
    -- or number token, which no search for `vue` or `js` would find).
    search_vector      tsvector    GENERATED ALWAYS AS
                           (to_tsvector('simple', regexp_replace(
                               title || ' ' || coalesce(description, ''), '[[:punct:]]+', ' ',
                               'g'))) STORED,
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
-- q=
CREATE INDEX catalog_items_search_idx ON catalog_items USING gin (search_vector)
    WHERE deleted_at IS NULL;
-- a tutor's courses (the users foreign key)
CREATE INDEX catalog_items_tutor_idx ON catalog_items (tutor_id) WHERE tutor_id IS NOT NULL;

CREATE TABLE catalog_payments (
    id                 uuid        PRIMARY KEY,
    user_id            uuid        NOT NULL REFERENCES users (id),
    kind               text        NOT NULL CHECK (kind IN ('test', 'course')),
    item_id            uuid        NOT NULL REFERENCES catalog_items (id),
    item_title         text        NOT NULL,
    amount             bigint      NOT NULL CHECK (amount >= 0),
    method             text        NOT NULL
                           CHECK (method IN ('card', 'kakaopay', 'bank_transfer', 'wallet')),
    status             text        NOT NULL
                           CHECK (status IN ('pending', 'paid', 'failed', 'cancelled')),
    provider_reference text,
    refund             text        NOT NULL DEFAULT 'not_due'
                           CHECK (refund IN ('not_due', 'pending', 'done')),
    created_at         timestamptz NOT NULL,
    paid_at            timestamptz,
    cancelled_at       timestamptz,
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
    id            uuid        PRIMARY KEY,
    payment_id    uuid        NOT NULL UNIQUE REFERENCES catalog_payments (id),
    user_id       uuid        NOT NULL REFERENCES users (id),
    kind          text        NOT NULL CHECK (kind IN ('test', 'course')),
    item_id       uuid        NOT NULL REFERENCES catalog_items (id),
    status        text        NOT NULL
                      CHECK (status IN ('applied', 'enrolled', 'completed', 'cancelled')),
    registered_at timestamptz NOT NULL,
    completed_at  timestamptz,
    cancelled_at  timestamptz
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

-- Catalog revenue and the gateway's providers join the ledger (system accounts: no balance).
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('user_wallet', 'funding', 'concert_revenue', 'catalog_revenue',
                    'provider_card', 'provider_kakaopay', 'provider_bank_transfer'));
