ALTER INDEX catalog_items_pkey RESET (deduplicate_items);
ALTER INDEX IF EXISTS catalog_tests_created_idx RESET (deduplicate_items);
ALTER INDEX IF EXISTS catalog_courses_created_idx RESET (deduplicate_items);
ALTER INDEX IF EXISTS catalog_tests_popular_idx RESET (deduplicate_items);
ALTER INDEX IF EXISTS catalog_courses_popular_idx RESET (deduplicate_items);
UPDATE catalog_deferred_indexes
SET definition = replace(definition, ' WITH (deduplicate_items=off)', '')
WHERE name IN ('catalog_tests_created_idx', 'catalog_courses_created_idx',
               'catalog_tests_popular_idx', 'catalog_courses_popular_idx');
