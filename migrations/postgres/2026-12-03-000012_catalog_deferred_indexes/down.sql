-- Builds what a load left deferred, so no index of catalog_items is lost with the table.
DO $$
DECLARE
    deferred record;
BEGIN
    FOR deferred IN SELECT definition FROM catalog_deferred_indexes ORDER BY name LOOP
        EXECUTE deferred.definition;
    END LOOP;
END
$$;
DROP TABLE catalog_deferred_indexes;
