-- One checkout chain as reserva's PostgreSQL commerce store writes it, without HTTP, the
-- provider, the signature or Redis: four transactions, as the server commits them.
--   1. place the order: lock the user, read the course's offer and the user's live access, cancel
--      a pending order, insert the order and its item;
--   2. open the checkout: lock the order's ready payment and the order, read the default billing
--      address, supersede, insert the ready payment (address copied), read the item titles;
--   3. attach the provider's reference and approval address (after its ready);
--   4. apply the approved callback: lock the payment then the order, mark both paid, grant the
--      access, post the provider → commerce revenue transfer with its two entries.
-- Chain k is user k of pgb_users (never reused, as the load tool's chains) buying course
-- k % (courses) of pgb_courses. Tables pgb_users / pgb_courses / pgb_accounts and the sequence
-- pgb_chains are made by scripts/bench-checkout-pgbench.
SELECT nextval('pgb_chains') AS k \gset
SELECT u.id AS user_id, c.id AS course_id, gen_random_uuid() AS order_id,
       gen_random_uuid() AS payment_id, gen_random_uuid() AS transfer_id
FROM pgb_users u, pgb_courses c
WHERE u.n = :k AND c.n = :k % (SELECT count(*) FROM pgb_courses)::int \gset
BEGIN;
SELECT 1 FROM users WHERE id = :user_id::uuid FOR NO KEY UPDATE;
SELECT title, price FROM catalog_items WHERE id = :course_id::uuid AND kind = 'course' AND deleted_at IS NULL;
SELECT DISTINCT course_id FROM course_access
WHERE user_id = :user_id::uuid AND revoked_at IS NULL AND granted_at <= now() AND now() < expires_at;
UPDATE orders SET status = 'cancelled', cancelled_at = now(), updated_at = now()
WHERE user_id = :user_id::uuid AND status = 'pending';
INSERT INTO orders (id, user_id, status, total, created_at, updated_at)
SELECT :order_id::uuid, :user_id::uuid, 'pending', price, now(), now() FROM catalog_items WHERE id = :course_id::uuid
RETURNING *;
INSERT INTO order_items (id, order_id, position, course_id, curriculum_id, title, price)
SELECT gen_random_uuid(), :order_id::uuid, 0, id, NULL, title, price FROM catalog_items WHERE id = :course_id::uuid;
SELECT id, order_id, course_id, curriculum_id, title, price FROM order_items WHERE order_id = :order_id::uuid;
COMMIT;
BEGIN;
SELECT id FROM order_payments WHERE order_id = :order_id::uuid AND status = 'ready' FOR UPDATE;
SELECT user_id, status, total FROM orders WHERE id = :order_id::uuid FOR NO KEY UPDATE;
SELECT id FROM billing_addresses WHERE user_id = :user_id::uuid AND is_default;
UPDATE order_payments SET status = 'superseded', updated_at = now()
WHERE order_id = :order_id::uuid AND status = 'ready' RETURNING id;
INSERT INTO order_payments (id, order_id, user_id, method, amount, status, billing_country,
                            billing_main_address, billing_detail_address, billing_postal_code,
                            created_at, expires_at, updated_at)
SELECT :payment_id::uuid, o.id, o.user_id, 'card', o.total, 'ready', a.country, a.main_address,
       a.detail_address, a.postal_code, now(), now() + interval '15 minutes', now()
FROM orders o LEFT JOIN billing_addresses a ON a.user_id = o.user_id AND a.is_default
WHERE o.id = :order_id::uuid;
SELECT title FROM order_items WHERE order_id = :order_id::uuid ORDER BY position;
COMMIT;
UPDATE order_payments SET provider_reference = coalesce(provider_reference, 'pgbench'),
       approval_url = 'http://127.0.0.1/approve', updated_at = now()
WHERE id = :payment_id::uuid AND status = 'ready';
BEGIN;
SELECT * FROM order_payments WHERE id = :payment_id::uuid FOR UPDATE;
SELECT user_id, status, total FROM orders WHERE id = :order_id::uuid FOR NO KEY UPDATE;
UPDATE order_payments SET status = 'paid', refund = 'not_due', callback_result = 'approved',
       paid_at = now(), updated_at = now()
WHERE id = :payment_id::uuid;
UPDATE orders SET status = 'paid', paid_at = now(), updated_at = now()
WHERE id = :order_id::uuid AND status = 'pending';
INSERT INTO course_access (user_id, course_id, order_id, granted_at, expires_at)
SELECT DISTINCT o.user_id, oi.course_id, o.id, now(), now() + interval '730 days'
FROM orders o JOIN order_items oi ON oi.order_id = o.id AND oi.course_id IS NOT NULL
WHERE o.id = :order_id::uuid
ON CONFLICT (user_id, course_id, order_id) DO NOTHING;
WITH transfer AS (
    INSERT INTO ledger_transfers (id, kind, from_account, to_account, amount, user_id, reference,
                                  created_at)
    SELECT :transfer_id::uuid, 'payment', acc.provider, acc.revenue, p.amount, p.user_id, p.id,
           now()
    FROM order_payments p, pgb_accounts acc
    WHERE p.id = :payment_id::uuid
    ON CONFLICT (id) DO NOTHING
    RETURNING id, from_account, to_account, amount
)
INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at)
SELECT transfer.id, side.account_id, side.amount, NULL, now()
FROM transfer CROSS JOIN LATERAL (VALUES (transfer.from_account, -transfer.amount),
                                         (transfer.to_account, transfer.amount))
    AS side (account_id, amount)
RETURNING transfer_id;
COMMIT;
