-- The roster in force on d, one row per person. A person listed in two counties' snapshots (moved, while the old
-- county's snapshot, not delivered again, still lists them) is where the newer snapshot puts them.

-- Rows in force on d that lose to a newer row of the same person. The rows of one snapshot date are one delivery's
-- (stored under it, or reused from an earlier identical one: ingest/warehouse/apply.py), whose keys ingest made
-- unique across all its files (ingest/prepare.py, _resolve_keys), so a person's rows differ in date and only rows
-- older than the newest can lose: the join is built on those, which is none when every county's came the same day.
-- The semi join's hash table is built on those older rows (DuckDB builds a semi join's right side), not on everyone.
CREATE OR REPLACE MACRO roster_superseded(d) AS TABLE
WITH r AS (SELECT id_number, _delivery_date, _file_seq, _row FROM roster_asof(d)),
older AS (SELECT * FROM r WHERE _delivery_date < (SELECT max(_delivery_date) FROM r))
SELECT o._delivery_date, o._file_seq, o._row FROM older o
WHERE o.id_number IN (SELECT r.id_number FROM r SEMI JOIN older x
                      ON x.id_number = r.id_number AND r._delivery_date > x._delivery_date);

CREATE OR REPLACE MACRO roster_in_force(d) AS TABLE
SELECT r.* FROM roster_asof(d) r
ANTI JOIN roster_superseded(d) x ON x._delivery_date = r._delivery_date AND x._file_seq = r._file_seq AND x._row = r._row;
