-- What a curriculum line of an order buys: the curriculum's courses when the order was placed.
-- The payment grants access from these rows, so an edit of the curriculum's course list between
-- the order and its approval changes neither what the price buys nor the order's owned-check.
CREATE TABLE order_item_courses (
    order_item_id TEXT NOT NULL REFERENCES order_items (id),
    course_id     TEXT NOT NULL REFERENCES catalog_items (id),
    PRIMARY KEY (order_item_id, course_id)
) WITHOUT ROWID;
-- orders placed before this snapshot existed: their curricula's courses as they are now (what
-- their grant would have read)
INSERT OR IGNORE INTO order_item_courses (order_item_id, course_id)
SELECT oi.id, cc.course_id
FROM order_items oi
JOIN curriculum_courses cc ON cc.curriculum_id = oi.curriculum_id;

-- The sweep's retries: a provider lookup of an overdue ready payment, or a pending refund, that
-- failed is tried again at `retry_at` (backing off with `attempts`), so the rows that keep
-- failing rotate to the back of the batch instead of starving the newer ones.
ALTER TABLE order_payments ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE order_payments ADD COLUMN retry_at BIGINT;
DROP INDEX order_payments_expiry_idx;
DROP INDEX order_payments_refund_idx;
CREATE INDEX order_payments_expiry_idx ON order_payments (coalesce(retry_at, expires_at))
    WHERE status = 'ready';
CREATE INDEX order_payments_refund_idx ON order_payments (coalesce(retry_at, updated_at))
    WHERE refund = 'pending';
