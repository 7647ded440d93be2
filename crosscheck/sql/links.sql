-- Person and household resolution for delivery date $d, over every feed's point-in-time view.
-- cc_feeds(feed, department, kind) is filled from the data contracts before this runs.

-- The roster in force on $d, one row per person (a person in two county snapshots: the newest delivery wins).
CREATE OR REPLACE TEMP TABLE cc_roster AS
SELECT id_number, household_id, name, coalesce(birth_date, try_strptime(substr(id_number, 7, 8), '%Y%m%d')::DATE) AS birth_date,
       birth_date AS roster_birth_date, sex, village_code, village_name, township_name, county_code, relation,
       household_size, labour_skill, coalesce(person_status, '正常') AS person_status,
       coalesce(person_status, '正常') = '正常' AS living, household_type, monitoring_category, risk_type_1,
       risk_eliminated, risk_identified_date, safe_water, _file AS file, _row AS "row"
FROM roster_asof($d::DATE)
QUALIFY row_number() OVER (PARTITION BY id_number ORDER BY _delivery_date DESC, _file_seq DESC, _row DESC) = 1;

-- Every department record in force on $d that names a person or a household.
CREATE OR REPLACE TEMP TABLE cc_records AS
SELECT 'civil_assistance' AS feed, _delivery_date AS src, _file AS file, _row AS "row", id_number AS rec_id,
       NULL::VARCHAR AS rec_household, name, village_code, county_code FROM civil_assistance_asof($d::DATE)
UNION ALL
SELECT 'econ_check', _delivery_date, _file, _row, id_number, NULL, NULL, NULL, county_code FROM econ_check_asof($d::DATE)
UNION ALL
SELECT 'students', _delivery_date, _file, _row, id_number, NULL, name, NULL, county_code FROM students_asof($d::DATE)
UNION ALL
SELECT 'medical_enrollment', _delivery_date, _file, _row, id_number, NULL, name, NULL, county_code
FROM medical_enrollment_asof($d::DATE)
UNION ALL
SELECT 'medical_claims', _delivery_date, _file, _row, id_number, NULL, name, NULL, county_code FROM medical_claims_asof($d::DATE)
UNION ALL
SELECT 'housing_safety', _delivery_date, _file, _row, head_id_number, NULL, head_name, village_code, county_code
FROM housing_safety_asof($d::DATE)
UNION ALL
SELECT 'applications', _delivery_date, _file, _row, head_id_number, NULL, applicant_name, village_code, county_code
FROM applications_asof($d::DATE)
UNION ALL
SELECT 'household_income', _delivery_date, _file, _row, NULL, household_id, NULL, NULL, county_code
FROM household_income_asof($d::DATE)
UNION ALL
SELECT 'visit_results', _delivery_date, _file, _row, NULL, household_id, NULL, NULL, county_code FROM visit_results_asof($d::DATE)
UNION ALL
SELECT 'publication_results', _delivery_date, _file, _row, NULL, household_id, NULL, NULL, county_code
FROM publication_results_asof($d::DATE)
UNION ALL
SELECT 'county_decisions', _delivery_date, _file, _row, NULL, household_id, NULL, NULL, county_code
FROM county_decisions_asof($d::DATE);

-- Fallback for records whose ID number is not in the roster: the roster persons with the same name, the birth date
-- of the record's ID number and the record's village. Linked only when exactly one person fits; never by name alone.
CREATE OR REPLACE TEMP TABLE cc_fallback AS
SELECT r.feed, r.src, r.file, r."row", count(*) AS candidates, any_value(p.id_number) AS person_id
FROM cc_records r
JOIN cc_roster p
  ON p.name = r.name AND p.village_code = r.village_code
 AND p.birth_date = try_strptime(substr(r.rec_id, 7, 8), '%Y%m%d')::DATE
WHERE r.rec_id IS NOT NULL AND r.name IS NOT NULL AND r.village_code IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM cc_roster x WHERE x.id_number = r.rec_id)
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE cc_households AS
SELECT household_id, any_value(county_code) AS county_code FROM cc_roster GROUP BY household_id;

CREATE OR REPLACE TEMP TABLE cc_links AS
SELECT r.feed, f.department, f.kind, r.src, r.file, r."row", r.rec_id, r.rec_household,
       CASE WHEN p.id_number IS NOT NULL THEN p.id_number WHEN fb.candidates = 1 THEN fb.person_id END AS person_id,
       coalesce(p.household_id, h.household_id, CASE WHEN fb.candidates = 1 THEN q.household_id END) AS household_id,
       coalesce(p.county_code, h.county_code, CASE WHEN fb.candidates = 1 THEN q.county_code END, r.county_code) AS county_code,
       CASE WHEN p.id_number IS NOT NULL THEN 'id'
            WHEN h.household_id IS NOT NULL THEN 'household_id'
            WHEN fb.candidates = 1 THEN 'name_birth_village'
            ELSE 'unmatched' END AS match_method,
       fb.candidates
FROM cc_records r
JOIN cc_feeds f ON f.feed = r.feed
LEFT JOIN cc_roster p ON p.id_number = r.rec_id
LEFT JOIN cc_households h ON h.household_id = r.rec_household
LEFT JOIN cc_fallback fb ON fb.feed = r.feed AND fb.src = r.src AND fb.file = r.file AND fb."row" = r."row"
LEFT JOIN cc_roster q ON q.id_number = fb.person_id;

-- Persisted: snapshot records in force on $d, and increment records delivered on $d.
DELETE FROM person_links WHERE delivery_date = $d::DATE;
INSERT INTO person_links
SELECT $d::DATE, feed, department, src, file, "row", rec_id, rec_household, person_id, household_id, county_code,
       match_method, candidates
FROM cc_links WHERE kind = 'snapshot' OR src = $d::DATE;
