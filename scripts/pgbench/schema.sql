-- The minimal schema of the "physical limit" rows of docs/benchmarks/SOURCE-SYSTEM.md.
DROP TABLE IF EXISTS slot, reservation;
CREATE TABLE slot (id int PRIMARY KEY, capacity int NOT NULL, confirmed int NOT NULL DEFAULT 0,
                   CHECK (confirmed <= capacity));
CREATE TABLE reservation (id bigserial PRIMARY KEY, user_id bigint NOT NULL,
                          starts_at timestamptz NOT NULL, ends_at timestamptz NOT NULL,
                          headcount int NOT NULL, status text NOT NULL,
                          created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
INSERT INTO slot (id, capacity) SELECT g, 2000000000 FROM generate_series(1, 2160) g;
