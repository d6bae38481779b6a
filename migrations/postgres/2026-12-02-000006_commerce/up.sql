-- Commerce: curricula (courses sold as one item), billing addresses, one cart per user, orders
-- with their items, two-phase checkout payments at the provider, and the course access a paid
-- order grants. Every "at most one" rule is a partial unique index, so it holds under any race:
-- one default address per user, one pending order per user, one open (ready) checkout and one
-- paid payment per order, an item at most once in a cart.
CREATE TABLE curricula (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    description text,
    price       bigint      NOT NULL CONSTRAINT curricula_price_range
                                CHECK (price BETWEEN 0 AND 100000000),
    category    text        NOT NULL CHECK (category IN ('JavaScript', 'Python', 'Django', 'React',
                                                         'Vue', 'Node', 'AWS', 'Docker', 'DB')),
    skill_level text        NOT NULL CHECK (skill_level IN ('beginner', 'intermediate',
                                                            'advanced')),
    tutor_id    uuid        NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    -- as catalog_items.search_vector: punctuation splits words first
    search_vector tsvector  GENERATED ALWAYS AS
                      (to_tsvector('simple', regexp_replace(
                          name || ' ' || coalesce(description, ''), '[[:punct:]]+', ' ', 'g')))
                      STORED
);
-- the list, newest first (and its keyset row comparison)
CREATE INDEX curricula_created_idx ON curricula (created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX curricula_search_idx ON curricula USING gin (search_vector) WHERE deleted_at IS NULL;
CREATE INDEX curricula_tutor_idx ON curricula (tutor_id);

-- A curriculum's courses, in order. Kept when the curriculum is soft-deleted (history).
CREATE TABLE curriculum_courses (
    curriculum_id uuid    NOT NULL REFERENCES curricula (id),
    course_id     uuid    NOT NULL REFERENCES catalog_items (id),
    position      integer NOT NULL CHECK (position >= 0),
    PRIMARY KEY (curriculum_id, course_id),
    CONSTRAINT curriculum_courses_position_key UNIQUE (curriculum_id, position)
);
CREATE INDEX curriculum_courses_course_idx ON curriculum_courses (course_id);

CREATE TABLE billing_addresses (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id),
    country        text        NOT NULL,
    main_address   text        NOT NULL,
    detail_address text        NOT NULL,
    postal_code    text        NOT NULL,
    is_default     boolean     NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
-- at most one default per user (the use case keeps "at least one" when addresses exist)
CREATE UNIQUE INDEX billing_addresses_one_default ON billing_addresses (user_id) WHERE is_default;
CREATE INDEX billing_addresses_user_idx ON billing_addresses (user_id, created_at DESC, id DESC);

-- The cart: a user's cart is their rows here (no cart row to create or lose).
CREATE TABLE cart_items (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id),
    course_id     uuid        REFERENCES catalog_items (id),
    curriculum_id uuid        REFERENCES curricula (id),
    created_at    timestamptz NOT NULL,
    CONSTRAINT cart_items_exactly_one CHECK ((course_id IS NULL) <> (curriculum_id IS NULL))
);
CREATE UNIQUE INDEX cart_items_one_course ON cart_items (user_id, course_id)
    WHERE course_id IS NOT NULL;
CREATE UNIQUE INDEX cart_items_one_curriculum ON cart_items (user_id, curriculum_id)
    WHERE curriculum_id IS NOT NULL;
CREATE INDEX cart_items_course_idx ON cart_items (course_id) WHERE course_id IS NOT NULL;
CREATE INDEX cart_items_curriculum_idx ON cart_items (curriculum_id) WHERE curriculum_id IS NOT NULL;

CREATE TABLE orders (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id),
    status       text        NOT NULL
                     CHECK (status IN ('pending', 'paid', 'cancelled', 'refunded', 'failed')),
    total        bigint      NOT NULL CHECK (total >= 0),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    paid_at      timestamptz,
    cancelled_at timestamptz,
    refunded_at  timestamptz,
    CHECK ((status IN ('paid', 'refunded')) = (paid_at IS NOT NULL)),
    CHECK ((status = 'refunded') = (refunded_at IS NOT NULL)),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
-- at most one pending order per user (a new order cancels the old one in its transaction)
CREATE UNIQUE INDEX orders_one_pending ON orders (user_id) WHERE status = 'pending';
CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC, id DESC);

-- What was ordered, with its title and price as they were at order time.
CREATE TABLE order_items (
    id            uuid    PRIMARY KEY,
    order_id      uuid    NOT NULL REFERENCES orders (id),
    position      integer NOT NULL CHECK (position >= 0),
    course_id     uuid    REFERENCES catalog_items (id),
    curriculum_id uuid    REFERENCES curricula (id),
    title         text    NOT NULL,
    price         bigint  NOT NULL CHECK (price >= 0),
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
    id                 uuid        PRIMARY KEY,
    order_id           uuid        NOT NULL REFERENCES orders (id),
    user_id            uuid        NOT NULL REFERENCES users (id),
    method             text        NOT NULL CHECK (method IN ('card', 'kakaopay', 'bank_transfer')),
    amount             bigint      NOT NULL CHECK (amount >= 0),
    status             text        NOT NULL
                           CHECK (status IN ('ready', 'paid', 'failed', 'cancelled', 'expired',
                                             'superseded', 'refunded')),
    provider_reference text,
    approval_url       text,
    refund             text        NOT NULL DEFAULT 'not_due'
                           CHECK (refund IN ('not_due', 'pending', 'done')),
    callback_result    text        CHECK (callback_result IN ('approved', 'cancelled', 'failed')),
    billing_country        text,
    billing_main_address   text,
    billing_detail_address text,
    billing_postal_code    text,
    created_at         timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    paid_at            timestamptz,
    refunded_at        timestamptz,
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
    user_id    uuid        NOT NULL REFERENCES users (id),
    course_id  uuid        NOT NULL REFERENCES catalog_items (id),
    order_id   uuid        NOT NULL REFERENCES orders (id),
    granted_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    PRIMARY KEY (user_id, course_id, order_id),
    CHECK (granted_at < expires_at)
);
CREATE INDEX course_access_live_idx ON course_access (user_id, expires_at DESC)
    WHERE revoked_at IS NULL;
CREATE INDEX course_access_order_idx ON course_access (order_id);
CREATE INDEX course_access_course_idx ON course_access (course_id);

-- Commerce revenue joins the ledger: a payment is provider → commerce revenue, a refund the
-- reverse (system accounts: no balance).
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('user_wallet', 'funding', 'concert_revenue', 'catalog_revenue',
                    'commerce_revenue', 'provider_card', 'provider_kakaopay',
                    'provider_bank_transfer'));
