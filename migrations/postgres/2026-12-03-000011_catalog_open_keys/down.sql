CREATE INDEX catalog_items_created_open_idx ON catalog_items (kind, created_at DESC, id DESC)
    INCLUDE (starts_at, ends_at) WHERE deleted_at IS NULL;
DROP INDEX catalog_items_created_idx;
ALTER INDEX catalog_items_created_open_idx RENAME TO catalog_items_created_idx;

CREATE INDEX catalog_items_popular_open_idx
    ON catalog_items (kind, registration_count DESC, created_at DESC, id DESC)
    INCLUDE (starts_at, ends_at) WHERE deleted_at IS NULL;
DROP INDEX catalog_items_popular_idx;
ALTER INDEX catalog_items_popular_open_idx RENAME TO catalog_items_popular_idx;
