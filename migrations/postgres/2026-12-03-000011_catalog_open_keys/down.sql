CREATE INDEX catalog_items_created_idx ON catalog_items (kind, created_at DESC, id DESC)
    INCLUDE (starts_at, ends_at) WHERE deleted_at IS NULL;
CREATE INDEX catalog_items_popular_idx
    ON catalog_items (kind, registration_count DESC, created_at DESC, id DESC)
    INCLUDE (starts_at, ends_at) WHERE deleted_at IS NULL;
DROP INDEX catalog_tests_created_idx;
DROP INDEX catalog_courses_created_idx;
DROP INDEX catalog_tests_popular_idx;
DROP INDEX catalog_courses_popular_idx;
