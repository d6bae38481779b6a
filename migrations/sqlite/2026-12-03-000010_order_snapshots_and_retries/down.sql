DROP INDEX order_payments_refund_idx;
DROP INDEX order_payments_expiry_idx;
ALTER TABLE order_payments DROP COLUMN retry_at;
ALTER TABLE order_payments DROP COLUMN attempts;
CREATE INDEX order_payments_expiry_idx ON order_payments (expires_at) WHERE status = 'ready';
CREATE INDEX order_payments_refund_idx ON order_payments (updated_at) WHERE refund = 'pending';
DROP TABLE order_item_courses;
