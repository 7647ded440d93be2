-- 风险消除 candidates (docs/policy.md, "The workflow") for $d: households in 已纳入 on the ledger meeting every condition.
DELETE FROM elimination_candidates WHERE as_of_date = $d::DATE;
INSERT INTO elimination_candidates
WITH recent_rules AS (
    SELECT household_id, max(as_of_date) AS last_rule_date FROM rule_hits
    WHERE as_of_date BETWEEN $d::DATE - ($no_rule_days - 1) AND $d::DATE GROUP BY 1),
ever_rules AS (SELECT household_id, max(as_of_date) AS last_rule_date FROM rule_hits WHERE as_of_date <= $d::DATE GROUP BY 1)
SELECT $d::DATE, c.county_code, c.township, c.village_code, c.household_id, c.case_id, c.monitored_since,
       datediff('month', c.monitored_since, $d::DATE), h.income_position, $line::DOUBLE, e.last_rule_date,
       format('已监测 {} 个月（自 {}）；收入位置 {} 元/人，高于监测线 {} 元（{}）；三保障及饮水安全无缺口；近 {} 天无部门预警{}',
              datediff('month', c.monitored_since, $d::DATE), c.monitored_since, round(h.income_position)::BIGINT,
              $line::BIGINT, CASE WHEN h.income_source = 'visit' THEN '走访核实' ELSE '收入调查' END, $no_rule_days,
              CASE WHEN h.labour_count = 0 THEN '；家庭无劳动力但未仅靠社会救助兜底' ELSE '' END)
FROM cases c
JOIN household_indicators h ON h.household_id = c.household_id AND h.as_of_date = $d::DATE
LEFT JOIN recent_rules r ON r.household_id = c.household_id
LEFT JOIN ever_rules e ON e.household_id = c.household_id
WHERE c.state = '已纳入'
  AND c.monitored_since <= $d::DATE - to_months($min_months)
  AND h.income_position > $line
  AND NOT (coalesce(h.housing_grade IN (SELECT unnest($unsafe_grades::VARCHAR[])), false)
           AND coalesce(h.renovation_status, '') <> '已竣工')
  AND coalesce(h.dropouts, 0) = 0 AND coalesce(h.children_missing_school, 0) = 0
  AND coalesce(h.uninsured_members, 0) = 0
  AND NOT coalesce(h.roster_water_unsafe, false) AND coalesce(h.visit_water_secured, true)
  AND r.household_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM case_events x WHERE x.case_id = c.case_id AND x.event = '风险消除候选'
                  AND x.event_date > $d::DATE - $retry_days)
  AND NOT (coalesce(h.labour_count, 0) = 0 AND coalesce(h.dibao_covered, false))
ORDER BY c.county_code, c.township, c.village_code, c.household_id;
