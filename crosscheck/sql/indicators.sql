-- Household indicators as of delivery date $d, from the point-in-time views only (events dated after $d ignored).
-- Linked person-level records of living members: (feed, record) → person, household.
CREATE OR REPLACE TEMP TABLE cc_living_links AS
SELECT l.feed, l.rec, l.person_id, l.household_id
FROM cc_links l JOIN cc_persons m ON m.id_number = l.person_id AND m.living
WHERE l.feed IN ('medical_claims', 'students', 'civil_assistance', 'econ_check');

-- Where the roster disagrees within a household (its rows in two counties' versions, say), one row answers all four:
-- the first by head_first (links.sql).
CREATE OR REPLACE TEMP TABLE cc_hh AS
SELECT household_id, place.county_code AS county_code, place.township AS township,
       place.village_code AS village_code, place.village_name AS village_name, * EXCLUDE (household_id, place)
FROM (
SELECT household_id,
       arg_min({'county_code': county_code, 'township': township_name, 'village_code': village_code,
                'village_name': village_name},
               head_first) AS place,
       max(name) FILTER (WHERE relation = '户主') AS head_name,
       max(id_number) FILTER (WHERE relation = '户主') AS head_id_number,
       max(household_type) AS household_type, max(monitoring_category) AS monitoring_category,
       max(risk_type_1) AS risk_type_1,
       -- a risk identified, or eliminated, after $d does not count yet
       coalesce(bool_or(risk_identified_date IS NOT NULL AND risk_identified_date <= $d::DATE
                        AND (coalesce(risk_eliminated, false) = false OR coalesce(risk_eliminated_date > $d::DATE, false))),
                false) AS monitored,
       max(risk_identified_date) FILTER (WHERE risk_identified_date <= $d::DATE) AS risk_identified_date,
       max(household_size) AS recorded_size, count(*) AS members_total, count(*) FILTER (WHERE living) AS members_living,
       count(*) FILTER (WHERE living AND labour_skill IN ('技能劳动力', '普通劳动力', '弱劳动力或半劳动力')) AS labour_count,
       coalesce(bool_or(safe_water = false), false) AS roster_water_unsafe
FROM cc_roster_in_force($d::DATE) GROUP BY household_id
);

-- Income: the latest survey year and the one before it; a newer verified visit replaces the latest figures.
CREATE OR REPLACE TEMP TABLE cc_income AS
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY household_id ORDER BY year DESC) AS rk
    FROM household_income_asof($d::DATE) WHERE year <= year($d::DATE)
),
visit AS (
    SELECT household_id, visit_date, verified_income_per_capita, verified_out_of_pocket
    FROM visit_results_asof($d::DATE)
    WHERE visit_date <= $d::DATE AND verified_income_per_capita IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY visit_date DESC) = 1
)
SELECT coalesce(a.household_id, v.household_id) AS household_id, a.year AS income_year,
       CASE WHEN v.visit_date IS NOT NULL AND (a.year IS NULL OR v.visit_date > make_date(a.year, 12, 31))
            THEN 'visit_results' WHEN a.year IS NOT NULL THEN 'household_income' END AS income_source,
       v.visit_date AS income_visit_date, a.household_size AS income_size, a.net_income,
       a.compliant_out_of_pocket, a.net_income_per_capita,
       b.year AS prev_income_year, b.net_income_per_capita AS prev_net_income_per_capita,
       coalesce(b.wage_income, 0) - coalesce(a.wage_income, 0) AS wage_fall,
       coalesce(b.business_income, 0) - coalesce(a.business_income, 0) AS business_fall,
       v.verified_income_per_capita, v.verified_out_of_pocket
FROM (SELECT * FROM ranked WHERE rk = 1) a
LEFT JOIN (SELECT * FROM ranked WHERE rk = 2) b USING (household_id)
FULL JOIN visit v ON v.household_id = a.household_id;

-- Money is summed as DECIMAL (to the fen): a sum of DOUBLEs depends on the order parallel threads add them in, and a
-- last-bit difference flipped the rounding of an amount in an explanation between two runs of the same date.

-- Medical settlements: each settlement netted with its reversals (冲销), dated by the original settlement.
CREATE OR REPLACE TEMP TABLE cc_claims AS
WITH claims AS (
    SELECT c.*, ll.household_id FROM cc_claims_in_force c
    JOIN cc_living_links ll ON ll.feed = 'medical_claims' AND ll.rec = c.rec
    WHERE c.settlement_date <= $d::DATE
),
originals AS (SELECT * FROM claims WHERE settlement_type = '正常'),
reversals AS (
    SELECT original_settlement_id, sum(personal_burden::DECIMAL(18, 2))::DOUBLE AS burden,
           sum(total_cost::DECIMAL(18, 2))::DOUBLE AS total
    FROM cc_claims_in_force WHERE settlement_type = '冲销' AND settlement_date <= $d::DATE
    GROUP BY 1
)
SELECT o.household_id, o.settlement_id, o.settlement_date, o.visit_type,
       o.personal_burden + coalesce(r.burden, 0) AS burden, o.total_cost + coalesce(r.total, 0) AS total_cost
FROM originals o LEFT JOIN reversals r ON r.original_settlement_id = o.settlement_id;

CREATE OR REPLACE TEMP TABLE cc_med AS
SELECT household_id,
       (sum(burden::DECIMAL(18, 2)) FILTER (WHERE settlement_date > $d::DATE - $oop_window::INT))::DOUBLE AS oop_12m,
       count(*) FILTER (WHERE settlement_date > $d::DATE - $oop_window::INT AND burden > 0) AS oop_settlements,
       max(settlement_date) FILTER (WHERE settlement_date > $d::DATE - $oop_window::INT AND burden > 0) AS oop_last_date,
       count(*) FILTER (WHERE visit_type = '住院' AND total_cost > $cat_cost AND settlement_date > $d::DATE - $cat_window::INT) AS catastrophic_stays,
       max(total_cost) FILTER (WHERE visit_type = '住院' AND total_cost > $cat_cost AND settlement_date > $d::DATE - $cat_window::INT) AS catastrophic_max_cost,
       max(settlement_date) FILTER (WHERE visit_type = '住院' AND total_cost > $cat_cost AND settlement_date > $d::DATE - $cat_window::INT) AS catastrophic_last_date
FROM cc_claims GROUP BY household_id;

-- Living members without 正常参保 in any scheme for the delivery year.
CREATE OR REPLACE TEMP TABLE cc_uninsured AS
WITH insured AS (
    SELECT DISTINCT l.person_id FROM medical_enrollment_asof($d::DATE) e
    JOIN cc_links l ON l.feed = 'medical_enrollment' AND l.rec = cc_rec(e._delivery_date, e._file_seq, e._row)
    WHERE e.insurance_year = year($d::DATE) AND e.enrolment_status = '正常参保' AND l.person_id IS NOT NULL
)
SELECT m.household_id, count(*) AS uninsured_members
FROM cc_persons m ANTI JOIN insured i ON i.person_id = m.id_number
WHERE m.living
GROUP BY 1;

-- Schooling of living members. A status changed after $d is not known yet: the record still shows the child enrolled
-- somewhere, but neither a dropout nor a student by that status.
CREATE OR REPLACE TEMP TABLE cc_student_rows AS
SELECT ll.household_id, ll.person_id, s.stage,
       CASE WHEN s.status_changed_date > $d::DATE THEN NULL ELSE s.enrolment_status END AS enrolment_status
FROM students_asof($d::DATE) s
JOIN cc_living_links ll ON ll.feed = 'students' AND ll.rec = cc_rec(s._delivery_date, s._file_seq, s._row);

CREATE OR REPLACE TEMP TABLE cc_edu AS
WITH missing AS (   -- living members of school age without any student record
    SELECT m.household_id, count(*) AS children_missing_school FROM cc_persons m
    WHERE m.living AND m.age BETWEEN $missing_min::INT AND $missing_max::INT
      AND NOT EXISTS (SELECT 1 FROM cc_student_rows s WHERE s.person_id = m.id_number)
    GROUP BY 1
),
schooling AS (
    SELECT s.household_id,
           count(DISTINCT s.person_id) FILTER (WHERE s.enrolment_status IN ('辍学', '休学')
                AND (m.age BETWEEN $dropout_min::INT AND $dropout_max::INT OR s.stage IN ('小学', '初中'))) AS dropouts,
           string_agg(DISTINCT s.stage || s.enrolment_status, '、' ORDER BY s.stage || s.enrolment_status) FILTER (WHERE s.enrolment_status IN ('辍学', '休学')
                AND (m.age BETWEEN $dropout_min::INT AND $dropout_max::INT OR s.stage IN ('小学', '初中'))) AS dropout_status,
           count(DISTINCT s.person_id) FILTER (WHERE s.enrolment_status = '在读'
                AND s.stage IN ('普通高中', '中等职业教育', '高等职业教育', '本科', '研究生')) AS post_compulsory_students
    FROM cc_student_rows s JOIN cc_persons m ON m.id_number = s.person_id
    GROUP BY 1
)
SELECT household_id, coalesce(dropouts, 0) AS dropouts, dropout_status,
       coalesce(children_missing_school, 0) AS children_missing_school,
       coalesce(post_compulsory_students, 0) AS post_compulsory_students
FROM missing FULL JOIN schooling USING (household_id);

-- Housing: the newest assessment (dated on or before $d) of the household's dwelling, found by the head's ID.
CREATE OR REPLACE TEMP TABLE cc_housing AS
SELECT l.household_id, h.safety_grade AS housing_grade, h.assessment_date AS housing_assessment_date,
       h.renovation_status, h.renovation_method, h.completion_date AS renovation_completed
FROM housing_safety_asof($d::DATE) h
JOIN cc_links l ON l.feed = 'housing_safety' AND l.rec = cc_rec(h._delivery_date, h._file_seq, h._row)
WHERE l.household_id IS NOT NULL AND h.assessment_date <= $d::DATE
QUALIFY row_number() OVER (PARTITION BY l.household_id
                           ORDER BY h.assessment_date DESC, h._delivery_date DESC, h._file_seq DESC, h._row DESC) = 1;

-- Social assistance of living members: cover, and the latest starts and stops (dated on or before $d; a 停保 ending
-- after $d still covers).
-- Of records starting on the same day, the one delivered last (latest delivery, file and row) is the latest; an
-- amount or reason it leaves empty is the newest one given (an unknown amount is not printed as 0 元).
CREATE OR REPLACE TEMP TABLE cc_civ AS
WITH a AS (
    SELECT ll.household_id, c.*, (c.start_date, c._delivery_date, c._file_seq, c._row) AS newer
    FROM civil_assistance_asof($d::DATE) c
    JOIN cc_living_links ll ON ll.feed = 'civil_assistance' AND ll.rec = cc_rec(c._delivery_date, c._file_seq, c._row)
    WHERE c.start_date <= $d::DATE
)
SELECT household_id,
       bool_or(assistance_type IN ('农村低保', '农村特困供养') AND (assistance_status IN ('在保', '渐退期')
               OR (assistance_status = '停保' AND end_date > $d::DATE))) AS dibao_covered,
       arg_max(assistance_type, newer) FILTER (WHERE assistance_type IN ('农村低保', '农村特困供养')) AS new_dibao_type,
       max(start_date) FILTER (WHERE assistance_type IN ('农村低保', '农村特困供养')) AS new_dibao_start,
       arg_max(reason, newer) FILTER (WHERE assistance_type IN ('农村低保', '农村特困供养')) AS new_dibao_reason,
       max(start_date) FILTER (WHERE assistance_type = '临时救助') AS temp_aid_start,
       arg_max(one_off_amount, newer) FILTER (WHERE assistance_type = '临时救助') AS temp_aid_amount,
       arg_max(reason, newer) FILTER (WHERE assistance_type = '临时救助') AS temp_aid_reason,
       arg_max(assistance_type, newer) FILTER (WHERE assistance_type IN ('困难残疾人生活补贴', '重度残疾人护理补贴')) AS disability_subsidy_type,
       max(start_date) FILTER (WHERE assistance_type IN ('困难残疾人生活补贴', '重度残疾人护理补贴')) AS disability_subsidy_start,
       max(end_date) FILTER (WHERE assistance_type = '农村低保' AND assistance_status = '停保' AND end_date <= $d::DATE) AS dibao_exit_date
FROM a GROUP BY household_id;

CREATE OR REPLACE TEMP TABLE cc_visit AS
SELECT household_id, visit_date, water_secured FROM visit_results_asof($d::DATE)
WHERE visit_date <= $d::DATE
QUALIFY row_number() OVER (PARTITION BY household_id ORDER BY visit_date DESC) = 1;

-- Exclusion facts: the newest econ_check (dated on or before $d) of each living member.
CREATE OR REPLACE TEMP TABLE cc_econ AS
SELECT household_id, sum(vehicles) AS vehicles, sum(commodity_houses) AS commodity_houses, sum(businesses) AS businesses,
       count(*) FILTER (WHERE public_employee) AS public_employees, sum(financial_assets::DECIMAL(18, 2))::DOUBLE AS financial_assets,
       count(*) AS econ_checked_members
FROM (
    SELECT ll.household_id, e.* FROM econ_check_asof($d::DATE) e
    JOIN cc_living_links ll ON ll.feed = 'econ_check' AND ll.rec = cc_rec(e._delivery_date, e._file_seq, e._row)
    WHERE e.check_date <= $d::DATE
    QUALIFY row_number() OVER (PARTITION BY ll.person_id ORDER BY e.check_date DESC) = 1
) GROUP BY household_id;

DELETE FROM household_indicators WHERE as_of_date = $d::DATE;
INSERT INTO household_indicators
SELECT $d::DATE, h.county_code, h.township, h.village_code, h.village_name, h.household_id, h.head_name, h.head_id_number,
       h.household_type, h.monitoring_category, h.risk_type_1, h.monitored, h.risk_identified_date,
       h.recorded_size, h.members_total, h.members_living, h.labour_count,
       i.income_year, i.income_source, CASE WHEN i.income_source = 'visit_results' THEN i.income_visit_date END,
       coalesce(i.income_size, h.members_living), i.net_income, i.compliant_out_of_pocket,
       CASE WHEN i.income_source = 'visit_results'
                 THEN i.verified_income_per_capita - coalesce(i.verified_out_of_pocket, 0) / greatest(coalesce(i.income_size, h.members_living), 1)
            WHEN i.income_source = 'household_income'
                 THEN (i.net_income - coalesce(i.compliant_out_of_pocket, 0)) / greatest(i.income_size, 1) END,
       i.net_income_per_capita, i.prev_income_year, i.prev_net_income_per_capita, i.wage_fall, i.business_fall,
       coalesce(md.oop_12m, 0), coalesce(md.oop_settlements, 0), md.oop_last_date,
       coalesce(md.catastrophic_stays, 0), md.catastrophic_max_cost, md.catastrophic_last_date,
       coalesce(u.uninsured_members, 0),
       coalesce(e.dropouts, 0), e.dropout_status, coalesce(e.children_missing_school, 0), coalesce(e.post_compulsory_students, 0),
       hs.housing_grade, hs.housing_assessment_date, hs.renovation_status, hs.renovation_method, hs.renovation_completed,
       coalesce(c.dibao_covered, false), c.new_dibao_type, c.new_dibao_start, c.new_dibao_reason,
       c.temp_aid_start, c.temp_aid_amount, c.temp_aid_reason, c.disability_subsidy_type, c.disability_subsidy_start,
       c.dibao_exit_date,
       h.roster_water_unsafe, v.visit_date, v.water_secured,
       coalesce(x.vehicles, 0), coalesce(x.commodity_houses, 0), coalesce(x.businesses, 0), coalesce(x.public_employees, 0),
       coalesce(x.financial_assets, 0), coalesce(x.econ_checked_members, 0)
FROM cc_hh h
LEFT JOIN cc_income i USING (household_id)
LEFT JOIN cc_med md USING (household_id)
LEFT JOIN cc_uninsured u USING (household_id)
LEFT JOIN cc_edu e USING (household_id)
LEFT JOIN cc_housing hs USING (household_id)
LEFT JOIN cc_civ c USING (household_id)
LEFT JOIN cc_visit v USING (household_id)
LEFT JOIN cc_econ x USING (household_id);
