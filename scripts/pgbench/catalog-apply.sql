-- One G-APPLY-SPREAD apply with a card, as reserva's PostgreSQL store writes it, without HTTP, the
-- provider or Redis: the pending payment in its own transaction (it must be durable before the
-- provider is asked), then the settle transaction: the payment locked and marked paid, the
-- registration, the provider → revenue transfer with its two entries, and the item's count last.
-- Request k is user k % 200 on item k / 200 of pgb_items, as the load tool pairs them: about 200
-- buyers of one item at a time, so the count's row is hot. Tables pgb_users / pgb_items / the
-- sequence pgb_pairs and the run's token pgb_run are made by scripts/bench-catalog-pgbench.
SELECT nextval('pgb_pairs') AS k, (SELECT token FROM pgb_run) AS run \gset
BEGIN;
INSERT INTO catalog_payments (id, user_id, kind, item_id, item_title, amount, method, status,
                              created_at, paid_at)
SELECT md5(:run || :k)::uuid, u.id, i.kind, i.id, i.title, i.price, 'card', 'pending', now(), NULL
FROM pgb_users u, pgb_items p JOIN catalog_items i ON i.id = p.id
WHERE u.n = :k % 200 AND p.n = :k / 200
  AND i.deleted_at IS NULL AND i.starts_at <= now() AND now() <= i.ends_at
ON CONFLICT (id) DO NOTHING
RETURNING id;
COMMIT;
BEGIN;
SELECT * FROM catalog_payments WHERE id = md5(:run || :k)::uuid FOR UPDATE;
UPDATE catalog_payments SET status = 'paid', provider_reference = 'pgbench', paid_at = now()
WHERE id = md5(:run || :k)::uuid RETURNING *;
INSERT INTO catalog_registrations (id, payment_id, user_id, kind, item_id, status, registered_at)
SELECT gen_random_uuid(), p.id, p.user_id, p.kind, p.item_id, 'applied', now()
FROM catalog_payments p WHERE p.id = md5(:run || :k)::uuid
RETURNING *;
WITH accounts AS (
    INSERT INTO ledger_accounts (id, kind, owner, balance)
    SELECT pr.id, 'provider_card', '00000000-0000-0000-0000-000000000000'::uuid, NULL::bigint FROM pgb_provider pr
    UNION ALL
    SELECT it.revenue, 'catalog_revenue', it.id, NULL::bigint FROM pgb_items it WHERE it.n = :k / 200
    ON CONFLICT DO NOTHING
), transfer AS (
    INSERT INTO ledger_transfers (id, kind, from_account, to_account, amount, user_id, reference,
                                  created_at)
    SELECT md5(:run || 't' || :k)::uuid, 'payment', pr.id, it.revenue, p.amount, p.user_id, p.id, now()
    FROM catalog_payments p, pgb_provider pr, pgb_items it
    WHERE p.id = md5(:run || :k)::uuid AND it.n = :k / 200
    ON CONFLICT (id) DO NOTHING
    RETURNING id, from_account, to_account, amount
)
INSERT INTO ledger_entries (transfer_id, account_id, amount, balance_after, created_at)
SELECT transfer.id, side.account_id, side.amount, NULL, now()
FROM transfer CROSS JOIN LATERAL (VALUES (transfer.from_account, -transfer.amount),
                                         (transfer.to_account, transfer.amount))
    AS side (account_id, amount)
RETURNING transfer_id;
UPDATE catalog_items SET registration_count = registration_count + 1
WHERE id = (SELECT id FROM pgb_items WHERE n = :k / 200);
COMMIT;
