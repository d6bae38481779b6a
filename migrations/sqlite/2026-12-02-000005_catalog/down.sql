DROP TABLE catalog_registrations;
DROP TABLE catalog_payments;
DROP TRIGGER catalog_items_search_update;
DROP TRIGGER catalog_items_search_delete;
DROP TRIGGER catalog_items_search_insert;
DROP TABLE catalog_items_search;
DROP TABLE catalog_items;
