-- Cross-department data-quality issues for delivery date $d. Each names the department that should fix it.
DELETE FROM data_quality_issues WHERE delivery_date = $d::DATE;

-- Records that could not be linked to a roster person or household (same scope as person_links).
INSERT INTO data_quality_issues
SELECT $d::DATE, l.county_code,
       CASE WHEN l.candidates > 1 THEN 'ambiguous_name_match'
            WHEN l.feed = 'medical_claims' THEN 'settlement_outside_roster'
            ELSE 'unmatched_record' END,
       l.feed, l.department, l.file, l."row", NULL, l.rec_id,
       CASE WHEN l.rec_id IS NOT NULL THEN substr(l.rec_id, 1, 6) || '********' || substr(l.rec_id, 15, 4) END,
       CASE WHEN l.candidates > 1
              THEN format('证件号码在 {} 的花名册中找不到；按姓名、出生日期和村匹配到 {} 人，无法唯一确定，未关联', strftime($d::DATE, '%Y-%m-%d'), l.candidates)
            WHEN l.rec_household IS NOT NULL
              THEN format('户编号 {} 在 {} 的花名册中找不到', l.rec_household, strftime($d::DATE, '%Y-%m-%d'))
            WHEN l.feed = 'medical_claims'
              THEN format('医疗结算的参保人不在 {} 的花名册中（证件号码找不到，姓名、出生日期和村也无法唯一匹配）', strftime($d::DATE, '%Y-%m-%d'))
            ELSE format('证件号码在 {} 的花名册中找不到，且无法按姓名、出生日期和村唯一匹配', strftime($d::DATE, '%Y-%m-%d')) END,
       l.department
FROM cc_listed l
WHERE l.match_method = 'unmatched';

-- A dead or moved-out person still receiving assistance, enrolled in insurance, or studying. The records are joined
-- to the few such persons first; what each says is written for those alone.
INSERT INTO data_quality_issues
SELECT $d::DATE, p.county_code, 'inactive_person_receiving', l.feed, f.department, x.file, x."row", p.household_id,
       p.id_number, substr(p.id_number, 1, 6) || '********' || substr(p.id_number, 15, 4),
       format('花名册人员状态为「{}」，但{}，请核实', p.person_status,
              CASE x.feed
                  WHEN 'civil_assistance' THEN format('仍在享受{}（{}，开始日期 {}）', x.a, x.b, strftime(x.since, '%Y-%m-%d'))
                  WHEN 'medical_enrollment' THEN format('{} 年度仍为{}（{}）', x.year, x.b, x.a)
                  ELSE format('学籍仍为{}（{}）', x.b, x.a) END),
       f.department
FROM (
    SELECT 'civil_assistance' AS feed, cc_rec(_delivery_date, _file_seq, _row) AS rec, _file AS file, _row AS "row",
           assistance_type AS a, assistance_status AS b, start_date AS since, NULL::BIGINT AS year
    FROM civil_assistance_asof($d::DATE) WHERE assistance_status IN ('在保', '渐退期')
    UNION ALL
    SELECT 'medical_enrollment', cc_rec(_delivery_date, _file_seq, _row), _file, _row, scheme, enrolment_status, NULL,
           insurance_year
    FROM medical_enrollment_asof($d::DATE) WHERE enrolment_status = '正常参保' AND insurance_year = year($d::DATE)
    UNION ALL
    SELECT 'students', cc_rec(_delivery_date, _file_seq, _row), _file, _row, stage, enrolment_status, NULL, NULL
    FROM students_asof($d::DATE) WHERE enrolment_status = '在读'
) x
JOIN cc_links l ON l.feed = x.feed AND l.rec = x.rec
JOIN cc_feeds f ON f.feed = l.feed
JOIN cc_persons p ON p.id_number = l.person_id
WHERE p.person_status IN ('死亡', '迁出');

-- Roster sex or birth date disagreeing with the ID number.
INSERT INTO data_quality_issues
SELECT $d::DATE, county_code, kind, 'roster', '乡村振兴局', _file, _row, household_id, id_number,
       substr(id_number, 1, 6) || '********' || substr(id_number, 15, 4), description, '乡村振兴局'
FROM (
    SELECT *, 'id_sex_mismatch' AS kind,
           format('花名册性别为「{}」，与证件号码（第17位{}）不符', sex,
                  CASE WHEN substr(id_number, 17, 1)::INT % 2 = 1 THEN '为奇数，应为男' ELSE '为偶数，应为女' END) AS description
    FROM cc_roster_in_force($d::DATE)
    WHERE sex IS NOT NULL AND sex <> CASE WHEN substr(id_number, 17, 1)::INT % 2 = 1 THEN '男' ELSE '女' END
    UNION ALL
    SELECT *, 'id_birth_mismatch',
           format('花名册出生日期 {} 与证件号码中的出生日期 {} 不符', strftime(roster_birth_date, '%Y-%m-%d'),
                  strftime(try_strptime(substr(id_number, 7, 8), '%Y%m%d')::DATE, '%Y-%m-%d'))
    FROM cc_roster_in_force($d::DATE)
    WHERE roster_birth_date IS NOT NULL AND roster_birth_date <> try_strptime(substr(id_number, 7, 8), '%Y%m%d')::DATE
);

-- A household's recorded 人数 disagreeing with its rows in the roster (reported on the head's row, else its first row).
INSERT INTO data_quality_issues
SELECT $d::DATE, county_code, 'household_size_mismatch', 'roster', '乡村振兴局', file, "row", household_id, NULL, NULL,
       format('户人数记为 {} 人，但花名册中该户有 {} 行（其中人员状态正常 {} 人）', recorded, rows, living), '乡村振兴局'
FROM (
    SELECT household_id, reported.county AS county_code, reported.file AS file, reported."row" AS "row",
           * EXCLUDE (household_id, reported)
    FROM (
        SELECT household_id, max(household_size) AS recorded, count(*) AS rows, count(*) FILTER (WHERE living) AS living,
               arg_min({'county': county_code, 'file': _file, 'row': _row}, head_first) AS reported
        FROM cc_roster_in_force($d::DATE) GROUP BY household_id
    )
)
WHERE recorded IS NOT NULL AND recorded <> rows;

-- A student far older than the stage allows (policy student_max_age).
INSERT INTO data_quality_issues
SELECT $d::DATE, p.county_code, 'student_overage', 'students', '教育局', s._file, s._row, p.household_id, p.id_number,
       substr(p.id_number, 1, 6) || '********' || substr(p.id_number, 15, 4),
       format('学段为{}（学籍{}），但按出生日期 {} 计算已 {} 岁，超过该学段上限 {} 岁，请核实学段或证件号码', s.stage,
              s.enrolment_status, strftime(p.birth_date, '%Y-%m-%d'), p.age, m.max_age),
       '教育局'
FROM students_asof($d::DATE) s
JOIN cc_links l ON l.feed = 'students' AND l.rec = cc_rec(s._delivery_date, s._file_seq, s._row)
JOIN cc_persons p ON p.id_number = l.person_id
JOIN cc_student_max_age m ON m.stage = s.stage
WHERE s.enrolment_status IN ('在读', '休学') AND p.age > m.max_age;
