-- Rule hits of $d: cc_hits (household_id, rule_code, derived_risk, explanation_zh, evidence) holds every rule's hits,
-- made from the policy's rule registry (crosscheck/rules.py); cc_rules(code, kind, risk_type, severity, fallback) and
-- cc_reason_map(reason, risk_types) come from Python. kind: fixed (risk_type), from (derived_risk, else fallback),
-- map_reason (derived_risk mapped by the policy's risk_keywords, else fallback).
CREATE OR REPLACE TEMP MACRO cc_yuan(x) AS format('{:,}', round(x)::BIGINT);

DELETE FROM rule_hits WHERE as_of_date = $d::DATE;
INSERT INTO rule_hits
SELECT $d::DATE, h.county_code, h.township, h.village_code, x.household_id, x.rule_code,
       CASE WHEN r.kind = 'map_reason' THEN coalesce(m.risk_types, r.fallback)
            WHEN r.kind = 'from' THEN coalesce(x.derived_risk, r.fallback)
            ELSE r.risk_type END,
       r.severity, x.explanation_zh, x.evidence, h.monitored
FROM cc_hits x
JOIN cc_rules r ON r.code = x.rule_code
JOIN household_indicators h ON h.as_of_date = $d::DATE AND h.household_id = x.household_id
LEFT JOIN cc_reason_map m ON r.kind = 'map_reason' AND m.reason = x.derived_risk;

-- Exclusion checks (比对) evidence: a hit sends a case to review, it never rejects by itself.
DELETE FROM exclusion_hits WHERE as_of_date = $d::DATE;
INSERT INTO exclusion_hits
SELECT $d::DATE, county_code, township, village_code, household_id, code, explanation_zh, evidence, monitored FROM (
    SELECT *, 'EXC-VEHICLE' AS code, format('家庭成员登记机动车 {} 辆（民政局核对中心）', vehicles) AS explanation_zh,
           json_object('vehicles', vehicles) AS evidence FROM household_indicators
    WHERE as_of_date = $d::DATE AND vehicles >= $vehicle_min
    UNION ALL
    SELECT *, 'EXC-HOUSE', format('家庭成员拥有城镇商品房 {} 套（民政局核对中心）', commodity_houses),
           json_object('commodity_houses', commodity_houses) FROM household_indicators
    WHERE as_of_date = $d::DATE AND commodity_houses >= $house_min
    UNION ALL
    SELECT *, 'EXC-BUSINESS', format('家庭成员有工商登记 {} 户（民政局核对中心）', businesses),
           json_object('businesses', businesses) FROM household_indicators
    WHERE as_of_date = $d::DATE AND businesses >= $business_min
    UNION ALL
    SELECT *, 'EXC-PUBLIC', format('家庭成员中有 {} 人为财政供养人员（民政局核对中心）', public_employees),
           json_object('public_employees', public_employees) FROM household_indicators
    WHERE as_of_date = $d::DATE AND public_employees > 0
    UNION ALL
    SELECT *, 'EXC-ASSETS', format('家庭金融资产 {} 元，超过监测范围 {} 元 × {} 倍 × {} 人（{} 元）（民政局核对中心）',
                                   cc_yuan(financial_assets), cc_yuan($line), $assets_multiple, members_living,
                                   cc_yuan($assets_multiple * $line * members_living)),
           json_object('financial_assets', financial_assets, 'threshold', $assets_multiple * $line * members_living)
    FROM household_indicators
    WHERE as_of_date = $d::DATE AND financial_assets > $assets_multiple * $line * members_living
);
