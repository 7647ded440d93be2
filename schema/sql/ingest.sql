-- Ingest: what each delivery said about its rows and files. The feeds' own tables and their point-in-time macros
-- are made from the data contracts (schema/feeds.py).
CREATE TABLE IF NOT EXISTS quarantine (
    delivery_date DATE NOT NULL, feed VARCHAR NOT NULL, department VARCHAR, file VARCHAR, "row" BIGINT,
    "column" VARCHAR, raw_value VARCHAR, problem VARCHAR NOT NULL, county_code VARCHAR
);
CREATE TABLE IF NOT EXISTS ingest_reports (
    delivery_date DATE NOT NULL, feed VARCHAR NOT NULL, department VARCHAR, file VARCHAR, "row" BIGINT,
    "column" VARCHAR, raw_value VARCHAR, problem VARCHAR NOT NULL, county_code VARCHAR
);
CREATE TABLE IF NOT EXISTS deliveries (
    feed VARCHAR NOT NULL, delivery_date DATE NOT NULL, kind VARCHAR, files VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, duplicates BIGINT, resent BIGINT, superseded BIGINT,
    quarantined BIGINT, status VARCHAR NOT NULL, message VARCHAR, profile VARCHAR,
    PRIMARY KEY (feed, delivery_date)
);
-- fingerprint: the delivery's files (names, SHA-256) and everything reading them depends on (ingest/unchanged.py);
-- same_as: the earlier delivery whose rows and issues this one copied, its files being the same
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS fingerprint VARCHAR;
ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS same_as DATE;
-- The placement columns of rows read but not loaded (quarantined, superseded): a delivery re-sent unchanged places
-- their issues again, against the roster of its own date, without reading its files.
CREATE TABLE IF NOT EXISTS issue_keys (
    feed VARCHAR NOT NULL, delivery_date DATE NOT NULL, file VARCHAR, "row" BIGINT, village_code VARCHAR,
    household_id VARCHAR, id_number VARCHAR
);
CREATE TABLE IF NOT EXISTS snapshot_versions (
    feed VARCHAR NOT NULL, delivery_date DATE NOT NULL, county_code VARCHAR NOT NULL, rows BIGINT,
    previous_rows BIGINT, status VARCHAR NOT NULL, reason VARCHAR,
    PRIMARY KEY (feed, delivery_date, county_code)
);
-- A snapshot re-sent unchanged whose rows come out placed in the same counties stores none of its own: its rows are
-- those stored under rows_of (the date that first stored them). The feeds' macros read them as this delivery's.
CREATE TABLE IF NOT EXISTS reused_snapshots (
    feed VARCHAR NOT NULL, delivery_date DATE NOT NULL, rows_of DATE NOT NULL, PRIMARY KEY (feed, delivery_date)
);
-- Each county's version of snapshot feed f in force on d: its newest delivery applied, or held and then accepted.
CREATE OR REPLACE MACRO snapshot_versions_in_force(f, d) AS TABLE
SELECT county_code, max(delivery_date) AS version FROM snapshot_versions
WHERE feed = f AND status IN ('applied', 'accepted') AND delivery_date <= d
GROUP BY county_code;
CREATE TABLE IF NOT EXISTS operator_acceptances (
    feed VARCHAR NOT NULL, delivery_date DATE NOT NULL, PRIMARY KEY (feed, delivery_date)
);
-- Every entry of a delivery folder, the feed its name gives, and why it was not read (ingest/landing.py).
CREATE TABLE IF NOT EXISTS landing_files (
    delivery_date DATE NOT NULL, name VARCHAR NOT NULL, feed VARCHAR, bytes BIGINT, problem VARCHAR,
    county_code VARCHAR, PRIMARY KEY (delivery_date, name)
);
