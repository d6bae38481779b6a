-- The two sort indexes also carry starts_at and ends_at, so a list with status=available decides
-- which items are open from the index alone: the page's ids come from an index-only walk, and only
-- the page's rows are read from the table (by id). Before, every walked item was fetched from the
-- table to test its schedule, about 15 rows for each open one (7 % of the items are open at a
-- time). Same keys, same order, same partial predicate, same names: every other plan is unchanged.
-- Index-only scans need the visibility map, which VACUUM sets: `reserva seed catalog` vacuums at
-- its end, and autovacuum visits this table after 1 % of its rows changed rather than 20 % (the
-- default), so pages changed by registrations become all-visible again soon.
CREATE INDEX catalog_items_created_open_idx ON catalog_items (kind, created_at DESC, id DESC)
    INCLUDE (starts_at, ends_at) WHERE deleted_at IS NULL;
DROP INDEX catalog_items_created_idx;
ALTER INDEX catalog_items_created_open_idx RENAME TO catalog_items_created_idx;

CREATE INDEX catalog_items_popular_open_idx
    ON catalog_items (kind, registration_count DESC, created_at DESC, id DESC)
    INCLUDE (starts_at, ends_at) WHERE deleted_at IS NULL;
DROP INDEX catalog_items_popular_idx;
ALTER INDEX catalog_items_popular_open_idx RENAME TO catalog_items_popular_idx;

ALTER TABLE catalog_items SET (autovacuum_vacuum_scale_factor = 0.01,
                               autovacuum_vacuum_insert_scale_factor = 0.01);
