ALTER TABLE catalog_items RESET (autovacuum_vacuum_scale_factor,
                                 autovacuum_vacuum_insert_scale_factor);

CREATE INDEX catalog_items_popular_plain_idx
    ON catalog_items (kind, registration_count DESC, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
DROP INDEX catalog_items_popular_idx;
ALTER INDEX catalog_items_popular_plain_idx RENAME TO catalog_items_popular_idx;

CREATE INDEX catalog_items_created_plain_idx ON catalog_items (kind, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
DROP INDEX catalog_items_created_idx;
ALTER INDEX catalog_items_created_plain_idx RENAME TO catalog_items_created_idx;
