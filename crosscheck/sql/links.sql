-- Person and household resolution for delivery date $d, over every feed's point-in-time view (the medical
-- settlements: those of it that a figure of $d can read, cc_claims_in_force below).
-- cc_feeds(feed, department, kind) is filled from the data contracts before this runs.
-- Temp tables stay narrow (keys and link columns only): materialising wide rows costs more than rereading them.

-- A record's identity in its feed table, (delivery date, file number, row) packed into one BIGINT for cheap joins.
CREATE OR REPLACE TEMP MACRO cc_rec(src, seq, r) AS
    (date_diff('day', DATE '2000-01-01', src)::BIGINT * 4096 + seq) * 1073741824 + r;
CREATE OR REPLACE TEMP MACRO cc_rec_row(rec) AS rec % 1073741824;
CREATE OR REPLACE TEMP MACRO cc_rec_seq(rec) AS (rec // 1073741824) % 4096;

-- A name as compared for linking: the parts of a minority name (阿拉坦·其其格) are joined by a 间隔号 that departments
-- type in many forms (· • ・ ･ ‧ ⋅ ∙ ․ ﹒ . ．), with spaces (ASCII, full-width) or with nothing; all compare equal.
CREATE OR REPLACE TEMP MACRO cc_name_key(name) AS
    regexp_replace(name, '[·•・･‧⋅∙․﹒.．\s\x{3000}]+', '', 'g');

-- Roster rows in force on $d that lose to a newer row of the same person (schema/sql/roster.sql), kept for the
-- macro below: the cross-check reads the roster in force several times.
CREATE OR REPLACE TEMP TABLE cc_roster_dropped AS SELECT * FROM roster_superseded($d::DATE);

-- The roster in force on d (roster_in_force), with the birth date from the ID number where the roster has none.
-- head_first orders a household's rows: the head's, then by delivery, file and row (where its rows disagree, the
-- first says where the household is; a re-run says the same).
CREATE OR REPLACE TEMP MACRO cc_roster_in_force(d) AS TABLE
SELECT r.* REPLACE (coalesce(r.birth_date, try_strptime(substr(r.id_number, 7, 8), '%Y%m%d')::DATE) AS birth_date,
                    coalesce(r.person_status, '正常') AS person_status),
       r.birth_date AS roster_birth_date, coalesce(r.person_status, '正常') = '正常' AS living,
       (r.relation IS DISTINCT FROM '户主', r._delivery_date, r._file_seq, r._row) AS head_first
FROM roster_asof(d) r
ANTI JOIN cc_roster_dropped x ON x._delivery_date = r._delivery_date AND x._file_seq = r._file_seq AND x._row = r._row;

CREATE OR REPLACE TEMP TABLE cc_persons AS
SELECT id_number, household_id, name, birth_date, village_code, county_code, living, person_status,
       year($d::DATE) - year(birth_date)
       - CASE WHEN strftime($d::DATE, '%m%d') < strftime(birth_date, '%m%d') THEN 1 ELSE 0 END AS age
FROM cc_roster_in_force($d::DATE);

-- The medical settlements in force on $d (medical_claims_asof) that some figure of $d can read: those delivered on
-- $d (reported below), those dated within the longest medical window ($claims_window days: summed in indicators.sql)
-- and reversals (they net an original whatever their own date). Settlements pile up every day; the older ones change
-- no figure and are neither linked nor summed. Every version of a settlement kept is read and the one in force chosen
-- as medical_claims_asof chooses it (a test holds the two alike); an increment stores its rows under their own
-- delivery date, so the table is read directly. A row without a settlement number cannot be stored by ingest; were
-- one there, it is kept as the macro keeps it.
CREATE OR REPLACE TEMP TABLE cc_claims_in_force AS
SELECT cc_rec(_delivery_date, _file_seq, _row) AS rec, _delivery_date AS src, id_number, name, county_code,
       settlement_id, original_settlement_id, settlement_type, settlement_date, visit_type, total_cost, personal_burden
FROM medical_claims
WHERE _delivery_date <= $d::DATE AND (settlement_id IS NULL OR settlement_id IN (
    SELECT settlement_id FROM medical_claims
    WHERE _delivery_date <= $d::DATE
      AND (_delivery_date = $d::DATE OR settlement_date > $d::DATE - $claims_window::INT OR settlement_type = '冲销')))
QUALIFY row_number() OVER (PARTITION BY settlement_id ORDER BY _delivery_date DESC, _file_seq DESC, _row DESC) = 1;

-- Every department record in force on $d that names a person or a household.
CREATE OR REPLACE TEMP TABLE cc_records AS
SELECT 'civil_assistance' AS feed, cc_rec(_delivery_date, _file_seq, _row) AS rec, _delivery_date AS src,
       id_number AS rec_id, NULL::VARCHAR AS rec_household, name, village_code, county_code
FROM civil_assistance_asof($d::DATE)
UNION ALL
SELECT 'econ_check', cc_rec(_delivery_date, _file_seq, _row), _delivery_date, id_number, NULL, NULL, NULL, county_code
FROM econ_check_asof($d::DATE)
UNION ALL
SELECT 'students', cc_rec(_delivery_date, _file_seq, _row), _delivery_date, id_number, NULL, name, NULL, county_code
FROM students_asof($d::DATE)
UNION ALL
SELECT 'medical_enrollment', cc_rec(_delivery_date, _file_seq, _row), _delivery_date, id_number, NULL, name, NULL, county_code
FROM medical_enrollment_asof($d::DATE)
UNION ALL
SELECT 'medical_claims', rec, src, id_number, NULL, name, NULL, county_code
FROM cc_claims_in_force
UNION ALL
SELECT 'housing_safety', cc_rec(_delivery_date, _file_seq, _row), _delivery_date, head_id_number, NULL, head_name,
       village_code, county_code
FROM housing_safety_asof($d::DATE)
UNION ALL
SELECT 'applications', cc_rec(_delivery_date, _file_seq, _row), _delivery_date, head_id_number, NULL, applicant_name,
       village_code, county_code
FROM applications_asof($d::DATE)
UNION ALL
SELECT 'household_income', cc_rec(_delivery_date, _file_seq, _row), _delivery_date, NULL, household_id, NULL, NULL, county_code
FROM household_income_asof($d::DATE)
UNION ALL
SELECT 'visit_results', cc_rec(_delivery_date, _file_seq, _row), _delivery_date, NULL, household_id, NULL, NULL, county_code
FROM visit_results_asof($d::DATE)
UNION ALL
SELECT 'publication_results', cc_rec(_delivery_date, _file_seq, _row), _delivery_date, NULL, household_id, NULL, NULL, county_code
FROM publication_results_asof($d::DATE)
UNION ALL
SELECT 'county_decisions', cc_rec(_delivery_date, _file_seq, _row), _delivery_date, NULL, household_id, NULL, NULL, county_code
FROM county_decisions_asof($d::DATE);

-- Fallback for records whose ID number is not in the roster: the roster persons with the same name (cc_name_key), the
-- birth date of the record's ID number and the record's village. Linked only when exactly one person fits; never by
-- name alone. The names are compared in the aggregate, after the join on village and birth date: as a join key the
-- name key would be computed for every roster person.
CREATE OR REPLACE TEMP TABLE cc_fallback AS
WITH pairs AS (
    SELECT r.feed, r.rec, p.id_number,
           cc_name_key(p.name) = cc_name_key(r.name) AND cc_name_key(r.name) <> '' AS same_name
    FROM cc_records r
    JOIN cc_persons p
      ON p.village_code = r.village_code AND p.birth_date = try_strptime(substr(r.rec_id, 7, 8), '%Y%m%d')::DATE
    WHERE r.rec_id IS NOT NULL AND r.name IS NOT NULL AND r.village_code IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM cc_persons x WHERE x.id_number = r.rec_id)
)
SELECT feed, rec, count(*) FILTER (WHERE same_name) AS candidates,
       any_value(id_number) FILTER (WHERE same_name) AS person_id
FROM pairs GROUP BY ALL HAVING count(*) FILTER (WHERE same_name) > 0;

-- one county a household, the lowest where its members' rows disagree: a re-run files its links alike
CREATE OR REPLACE TEMP TABLE cc_households AS
SELECT household_id, min(county_code) AS county_code FROM cc_persons GROUP BY household_id;

CREATE OR REPLACE TEMP TABLE cc_links AS
SELECT r.feed, r.rec, r.src, r.rec_id, r.rec_household,
       CASE WHEN p.id_number IS NOT NULL THEN p.id_number WHEN fb.candidates = 1 THEN fb.person_id END AS person_id,
       coalesce(p.household_id, h.household_id, CASE WHEN fb.candidates = 1 THEN q.household_id END) AS household_id,
       coalesce(p.county_code, h.county_code, CASE WHEN fb.candidates = 1 THEN q.county_code END, r.county_code) AS county_code,
       CASE WHEN p.id_number IS NOT NULL THEN 'id'
            WHEN h.household_id IS NOT NULL THEN 'household_id'
            WHEN fb.candidates = 1 THEN 'name_birth_village'
            ELSE 'unmatched' END AS match_method,
       fb.candidates
FROM cc_records r
LEFT JOIN cc_persons p ON p.id_number = r.rec_id
LEFT JOIN cc_households h ON h.household_id = r.rec_household
LEFT JOIN cc_fallback fb ON fb.feed = r.feed AND fb.rec = r.rec
LEFT JOIN cc_persons q ON q.id_number = fb.person_id;

-- The records reported for $d are the snapshot records in force on $d and the increment records delivered on $d.
-- Those not linked by ID number or 户编号 are listed one by one, with their file names.
CREATE OR REPLACE TEMP TABLE cc_listed AS
WITH files AS (   -- each delivery lists its files in file-number order (deliveries.files)
    SELECT feed, delivery_date AS src, generate_subscripts(f, 1) - 1 AS seq, unnest(f).name AS file
    FROM (SELECT feed, delivery_date, from_json(files, '[{"name": "VARCHAR"}]') AS f FROM deliveries)
)
SELECT r.*, d.department, f.file, cc_rec_row(r.rec) AS "row"
FROM cc_links r
JOIN cc_feeds d ON d.feed = r.feed
LEFT JOIN files f ON f.feed = r.feed AND f.src = r.src AND f.seq = cc_rec_seq(r.rec)
WHERE r.match_method IN ('name_birth_village', 'unmatched') AND (d.kind = 'snapshot' OR r.src = $d::DATE);

-- Persisted: match counts of every reported record, and the reported records not linked by ID number or 户编号.
DELETE FROM link_rates WHERE delivery_date = $d::DATE;
INSERT INTO link_rates
SELECT $d::DATE, l.feed, f.department, l.county_code, l.match_method, count(*)
FROM cc_links l JOIN cc_feeds f ON f.feed = l.feed
WHERE f.kind = 'snapshot' OR l.src = $d::DATE
GROUP BY ALL;

DELETE FROM person_links WHERE delivery_date = $d::DATE;
INSERT INTO person_links
SELECT $d::DATE, feed, department, src, file, "row", rec_id, rec_household, person_id, household_id, county_code,
       match_method, candidates
FROM cc_listed;
