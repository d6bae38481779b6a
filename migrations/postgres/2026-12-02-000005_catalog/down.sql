-- Refuses (the restored check fails) while catalog revenue or provider accounts remain in the
-- ledger: reverting never deletes money's history.
DROP TABLE catalog_registrations;
DROP TABLE catalog_payments;
DROP TABLE catalog_items;
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('user_wallet', 'funding', 'concert_revenue'));
