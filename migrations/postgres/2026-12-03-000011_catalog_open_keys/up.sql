-- The two sort indexes take starts_at and ends_at as trailing key columns instead of INCLUDE
-- columns (000008). A B-tree tests a condition on any of its key columns inside the index, on
-- each entry, before it reads the table; a condition on an INCLUDE column is tested only in an
-- index-only scan, which must then look up every walked entry's page in the visibility map, and
-- whose kept ids must be read again through the primary key (four buffers a row). With the
-- schedule in the keys, `status=available` is an index condition of the plain index scan: the
-- entries of items that are not open are skipped in the index, and each kept entry is read from
-- the table through its own pointer (one buffer). Nothing else changes: the leading keys, their
-- order, the partial predicate and the names are the same, and id, unique, still decides every
-- tie before the schedule columns could.
CREATE INDEX catalog_items_created_keys_idx
    ON catalog_items (kind, created_at DESC, id DESC, starts_at, ends_at)
    WHERE deleted_at IS NULL;
DROP INDEX catalog_items_created_idx;
ALTER INDEX catalog_items_created_keys_idx RENAME TO catalog_items_created_idx;

CREATE INDEX catalog_items_popular_keys_idx
    ON catalog_items (kind, registration_count DESC, created_at DESC, id DESC, starts_at, ends_at)
    WHERE deleted_at IS NULL;
DROP INDEX catalog_items_popular_idx;
ALTER INDEX catalog_items_popular_keys_idx RENAME TO catalog_items_popular_idx;
