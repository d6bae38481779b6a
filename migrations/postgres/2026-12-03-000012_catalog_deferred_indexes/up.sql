-- The secondary indexes of catalog_items that a bulk load into an empty catalog
-- (`reserva seed catalog`) dropped, to build each once after the load: a million rows' index
-- insertions cost about four times the rows themselves, a build from the loaded table a fraction
-- of that. A row is written in the transaction that drops its index and deleted in the one that
-- builds it again, so a load killed in between leaves the definition here, and the next seed
-- builds it before anything else (`reserva catalog verify` reports it meanwhile).
CREATE TABLE catalog_deferred_indexes (
    name        text        PRIMARY KEY,
    definition  text        NOT NULL,
    deferred_at timestamptz NOT NULL DEFAULT now()
);
