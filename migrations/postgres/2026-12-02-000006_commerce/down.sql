-- Refuses (the restored check fails) while commerce revenue accounts remain in the ledger:
-- reverting never deletes money's history.
DROP TABLE course_access;
DROP TABLE order_payments;
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE cart_items;
DROP TABLE billing_addresses;
DROP TABLE curriculum_courses;
DROP TABLE curricula;
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('user_wallet', 'funding', 'concert_revenue', 'catalog_revenue',
                    'provider_card', 'provider_kakaopay', 'provider_bank_transfer'));
