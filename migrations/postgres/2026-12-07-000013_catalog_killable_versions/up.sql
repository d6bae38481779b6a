-- Each registration and each cancel changes its item's registration_count, a key column of the
-- popular indexes, so the UPDATE is never HOT: it writes a new version of the row and a new entry
-- into every index of catalog_items, and leaves the old version dead. In an index whose key the
-- update leaves as it was (the created sort indexes, the primary key), B-tree deduplication (on
-- by default since PostgreSQL 13) folds the new entry and the old ones into one posting list. A
-- scan can mark an index entry dead only when every version it points at is dead, and a posting
-- list holding the live version never is. So each list that passed an often-registered item
-- followed every one of its dead versions into the table, on every request, until a VACUUM
-- cleaned the indexes; and VACUUM skips the indexes when fewer than 2 % of the table's pages hold
-- dead rows, as a catalog's front page does. Without deduplication each version has an entry of
-- its own: the first scan that finds it dead marks it so, and the scans after skip it inside the
-- index, without reading the table.
--
-- These keys are unique per item (the id is one of their columns), so deduplication merged
-- nothing but versions of one row: the indexes are no bigger for live rows without it. The tutor
-- index, whose key many courses share, keeps it. The option applies to entries written from now
-- on; posting lists already written keep their versions until a VACUUM cleans the indexes
-- (`VACUUM (INDEX_CLEANUP ON) catalog_items` once, on a database upgraded in service).
ALTER INDEX catalog_items_pkey SET (deduplicate_items = off);
-- IF EXISTS and the records below: a seed may have set these aside (migration 000012).
ALTER INDEX IF EXISTS catalog_tests_created_idx SET (deduplicate_items = off);
ALTER INDEX IF EXISTS catalog_courses_created_idx SET (deduplicate_items = off);
ALTER INDEX IF EXISTS catalog_tests_popular_idx SET (deduplicate_items = off);
ALTER INDEX IF EXISTS catalog_courses_popular_idx SET (deduplicate_items = off);
UPDATE catalog_deferred_indexes
SET definition = replace(definition, ') WHERE (', ') WITH (deduplicate_items=off) WHERE (')
WHERE name IN ('catalog_tests_created_idx', 'catalog_courses_created_idx',
               'catalog_tests_popular_idx', 'catalog_courses_popular_idx')
  AND definition NOT LIKE '% WITH (%';
