-- The fifteen screening rules of the packaged policy written out by hand in SQL, a test oracle: the SQL the rule
-- registry writes must give the same hits, explanations and evidence (tests/test_rules.py).
CREATE OR REPLACE TEMP MACRO legacy_yuan(x) AS format('{:,}', round(x)::BIGINT);
CREATE OR REPLACE TEMP MACRO legacy_day(x) AS strftime(x, '%Y-%m-%d');
CREATE OR REPLACE TEMP MACRO legacy_pct(x) AS format('{}%', round(x * 100)::INT);

CREATE OR REPLACE TEMP TABLE legacy_hits AS
WITH h AS (SELECT * FROM household_indicators WHERE as_of_date = $d::DATE)
SELECT household_id, 'INC-LOW' AS rule_code, risk_type_1 AS derived_risk,
       format('家庭人均收入（扣除合规自付支出）{} 元，低于 {} 年监测范围 {} 元（{}）', legacy_yuan(income_position), year($d::DATE),
              legacy_yuan($line), CASE WHEN income_source = 'visit_results' THEN format('走访核实，{}', legacy_day(income_visit_date))
                                   ELSE format('乡村振兴局收支调查，{} 年度', income_year) END) AS explanation_zh,
       json_object('income_position', round(income_position, 2), 'line', $line, 'source', income_source,
                   'income_year', income_year, 'visit_date', income_visit_date) AS evidence
FROM h WHERE income_position < $line
UNION ALL
SELECT household_id, 'INC-DROP', CASE WHEN wage_fall > business_fall THEN '因务工就业不稳' ELSE '因产业项目失败' END,
       format('家庭人均纯收入由 {} 年度的 {} 元降至 {} 年度的 {} 元，下降 {}（阈值 {}），且低于监测范围的 {} 倍（{} 元）（乡村振兴局收支调查）',
              prev_income_year, legacy_yuan(prev_net_income_per_capita), income_year, legacy_yuan(net_income_per_capita),
              legacy_pct(1 - net_income_per_capita / prev_net_income_per_capita), legacy_pct($drop_share), $drop_multiple,
              legacy_yuan($drop_multiple * $line)),
       json_object('prev_year', prev_income_year, 'prev_per_capita', prev_net_income_per_capita, 'year', income_year,
                   'per_capita', net_income_per_capita, 'wage_fall', wage_fall, 'business_fall', business_fall)
FROM h WHERE prev_net_income_per_capita > 0
  AND net_income_per_capita <= prev_net_income_per_capita * (1 - $drop_share)
  AND net_income_per_capita < $drop_multiple * $line
UNION ALL
SELECT household_id, 'MED-BURDEN', NULL,
       format('{}个人负担医疗费用 {} 元，超过上年农村居民人均可支配收入的 {}（{} 元）（医保，{}）',
              CASE WHEN $med_window = 365 THEN '近12个月' ELSE format('近{}天', $med_window) END, legacy_yuan(oop_12m),
              legacy_pct(share), legacy_yuan(share * $prior_income), legacy_day(oop_last_date)),
       json_object('oop_12m', round(oop_12m, 2), 'settlements', oop_settlements, 'last_settlement', oop_last_date,
                   'share', share, 'prior_year_income', $prior_income, 'threshold', share * $prior_income)
FROM (SELECT *, CASE WHEN household_type IN ('脱贫户', '监测户') THEN $share_poverty ELSE $share_other END AS share FROM h)
WHERE oop_12m > share * $prior_income
UNION ALL
SELECT household_id, 'MED-CATASTROPHIC', NULL,
       format('近{}天住院结算 {} 次医疗总费用超过 {} 元，最高 {} 元（医保，{}）', $cat_window, catastrophic_stays,
              legacy_yuan($cat_cost), legacy_yuan(catastrophic_max_cost), legacy_day(catastrophic_last_date)),
       json_object('stays', catastrophic_stays, 'max_total_cost', catastrophic_max_cost, 'last_date', catastrophic_last_date,
                   'threshold', $cat_cost)
FROM h WHERE catastrophic_stays > 0
UNION ALL
SELECT household_id, 'MED-UNINSURED', NULL,
       format('家庭成员 {} 人在 {} 年度任一险种均无「正常参保」记录（医保参保登记，{}）', uninsured_members, year($d::DATE), legacy_day($d::DATE)),
       json_object('uninsured_members', uninsured_members, 'year', year($d::DATE))
FROM h WHERE uninsured_members > 0
UNION ALL
SELECT household_id, 'EDU-DROPOUT', NULL,
       format('家庭成员 {} 人处于义务教育阶段（{}–{} 岁或小学、初中）学籍为辍学或休学（{}）（教育局学籍）', dropouts, $dropout_min,
              $dropout_max, dropout_status),
       json_object('dropouts', dropouts, 'status', dropout_status)
FROM h WHERE dropouts > 0
UNION ALL
SELECT household_id, 'EDU-MISSING', NULL,
       format('家庭成员 {} 人年龄在 {}–{} 岁之间，但教育局学籍数据中没有其记录（截至 {}，需走访核实）', children_missing_school,
              $missing_min, $missing_max, legacy_day($d::DATE)),
       json_object('children_missing_school', children_missing_school)
FROM h WHERE children_missing_school > 0
UNION ALL
SELECT household_id, 'EDU-BURDEN', NULL,
       format('家庭 {} 人同时在读高中及以上（阈值 {} 人），家庭人均收入 {} 元低于监测范围的 {} 倍（{} 元）（教育局学籍、乡村振兴局收支调查）',
              post_compulsory_students, $edu_min_students, legacy_yuan(income_position), $edu_multiple, legacy_yuan($edu_multiple * $line)),
       json_object('students', post_compulsory_students, 'income_position', round(income_position, 2))
FROM h WHERE post_compulsory_students >= $edu_min_students AND income_position < $edu_multiple * $line
UNION ALL
SELECT household_id, 'HOU-UNSAFE', NULL,
       format('住房安全鉴定为 {} 级危房（鉴定日期 {}），改造状态为「{}」（住建局）', housing_grade, legacy_day(housing_assessment_date),
              renovation_status),
       json_object('grade', housing_grade, 'assessment_date', housing_assessment_date, 'renovation_status', renovation_status)
FROM h WHERE list_contains($unsafe_grades, housing_grade) AND renovation_status <> '已竣工'
UNION ALL
SELECT household_id, 'CIV-NEW-DIBAO', new_dibao_reason,
       format('近{}天新纳入{}，开始日期 {}，救助原因：{}（民政局）', $new_dibao_window, new_dibao_type, legacy_day(new_dibao_start),
              coalesce(new_dibao_reason, '未填写')),
       json_object('type', new_dibao_type, 'start_date', new_dibao_start, 'reason', new_dibao_reason)
FROM h WHERE new_dibao_start > $d::DATE - $new_dibao_window::INT
UNION ALL
SELECT household_id, 'CIV-TEMP-AID', temp_aid_reason,
       format('近{}天获临时救助 {} 元，发放日期 {}，救助原因：{}（民政局）', $temp_aid_window, legacy_yuan(coalesce(temp_aid_amount, 0)),
              legacy_day(temp_aid_start), coalesce(temp_aid_reason, '未填写')),
       json_object('amount', temp_aid_amount, 'date', temp_aid_start, 'reason', temp_aid_reason)
FROM h WHERE temp_aid_start > $d::DATE - $temp_aid_window::INT
UNION ALL
SELECT household_id, 'CIV-DISABILITY', NULL,
       format('近{}天新享受{}，开始日期 {}（民政局）', $disability_window, disability_subsidy_type, legacy_day(disability_subsidy_start)),
       json_object('type', disability_subsidy_type, 'start_date', disability_subsidy_start)
FROM h WHERE disability_subsidy_start > $d::DATE - $disability_window::INT
UNION ALL
SELECT household_id, 'CIV-DIBAO-EXIT', NULL,
       format('农村低保于 {} 停保（近{}天），家庭人均收入 {} 元低于监测范围的 {} 倍（{} 元）（民政局、乡村振兴局收支调查）',
              legacy_day(dibao_exit_date), $exit_window, legacy_yuan(income_position), $exit_multiple, legacy_yuan($exit_multiple * $line)),
       json_object('end_date', dibao_exit_date, 'income_position', round(income_position, 2))
FROM h WHERE dibao_exit_date > $d::DATE - $exit_window::INT AND NOT dibao_covered AND income_position < $exit_multiple * $line
UNION ALL
SELECT household_id, 'LAB-NONE', NULL,
       format('家庭 {} 名在世成员均无劳动能力（无技能、普通或弱劳动力），且无人享受农村低保或特困供养（花名册、民政局）', members_living),
       json_object('members_living', members_living, 'labour_count', labour_count)
FROM h WHERE members_living > 0 AND labour_count = 0 AND NOT dibao_covered
UNION ALL
SELECT household_id, 'WAT-UNSAFE', NULL,
       CASE WHEN roster_water_unsafe AND visit_water_secured = false
                 THEN format('花名册记录未解决安全饮用水，走访（{}）也发现饮水安全无保障', legacy_day(visit_date))
            WHEN roster_water_unsafe THEN '花名册记录「是否解决安全饮用水」为否（乡村振兴局）'
            ELSE format('走访（{}）发现饮水安全无保障（村委会及驻村工作队）', legacy_day(visit_date)) END,
       json_object('roster_water_unsafe', roster_water_unsafe, 'visit_date', visit_date, 'visit_water_secured', visit_water_secured)
FROM h WHERE roster_water_unsafe OR visit_water_secured = false;
