-- Output tables of the cross-check stage. Every table is rewritten per delivery date (delete, then insert).
-- Links not made by ID number or 户编号 (name + birth date + village, or none); every record is counted in link_rates.
CREATE TABLE IF NOT EXISTS link_rates (
    delivery_date DATE NOT NULL, feed VARCHAR NOT NULL, department VARCHAR, county_code VARCHAR,
    match_method VARCHAR NOT NULL, records BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS person_links (
    delivery_date DATE NOT NULL, feed VARCHAR NOT NULL, department VARCHAR, source_delivery_date DATE,
    file VARCHAR, "row" BIGINT, record_id_number VARCHAR, record_household_id VARCHAR,
    linked_id_number VARCHAR, household_id VARCHAR, county_code VARCHAR,
    match_method VARCHAR NOT NULL,   -- id / household_id / name_birth_village / unmatched
    candidates INTEGER               -- roster persons with the same name, birth date and village (fallback only)
);
CREATE TABLE IF NOT EXISTS data_quality_issues (
    delivery_date DATE NOT NULL, county_code VARCHAR, kind VARCHAR NOT NULL, feed VARCHAR, department VARCHAR,
    file VARCHAR, "row" BIGINT, household_id VARCHAR, id_number VARCHAR, id_number_masked VARCHAR,
    description_zh VARCHAR NOT NULL, fix_by VARCHAR
);
CREATE TABLE IF NOT EXISTS household_indicators (
    as_of_date DATE NOT NULL, county_code VARCHAR, township VARCHAR, village_code VARCHAR, village_name VARCHAR,
    household_id VARCHAR NOT NULL, head_name VARCHAR, head_id_number VARCHAR, household_type VARCHAR,
    monitoring_category VARCHAR, risk_type_1 VARCHAR, monitored BOOLEAN, risk_identified_date DATE,
    recorded_size INTEGER, members_total INTEGER, members_living INTEGER, labour_count INTEGER,
    income_year INTEGER, income_source VARCHAR, income_visit_date DATE, income_size INTEGER,
    net_income DOUBLE, compliant_out_of_pocket DOUBLE, income_position DOUBLE,
    net_income_per_capita DOUBLE, prev_income_year INTEGER, prev_net_income_per_capita DOUBLE,
    wage_fall DOUBLE, business_fall DOUBLE,
    oop_12m DOUBLE, oop_settlements INTEGER, oop_last_date DATE,
    catastrophic_stays INTEGER, catastrophic_max_cost DOUBLE, catastrophic_last_date DATE,
    uninsured_members INTEGER,
    dropouts INTEGER, dropout_status VARCHAR, children_missing_school INTEGER, post_compulsory_students INTEGER,
    housing_grade VARCHAR, housing_assessment_date DATE, renovation_status VARCHAR, renovation_method VARCHAR,
    renovation_completed DATE,
    dibao_covered BOOLEAN, new_dibao_type VARCHAR, new_dibao_start DATE, new_dibao_reason VARCHAR,
    temp_aid_start DATE, temp_aid_amount DOUBLE, temp_aid_reason VARCHAR,
    disability_subsidy_type VARCHAR, disability_subsidy_start DATE, dibao_exit_date DATE,
    roster_water_unsafe BOOLEAN, visit_date DATE, visit_water_secured BOOLEAN,
    vehicles INTEGER, commodity_houses INTEGER, businesses INTEGER, public_employees INTEGER,
    financial_assets DOUBLE, econ_checked_members INTEGER
);
CREATE TABLE IF NOT EXISTS rule_hits (
    as_of_date DATE NOT NULL, county_code VARCHAR, township VARCHAR, village_code VARCHAR,
    household_id VARCHAR NOT NULL, rule_code VARCHAR NOT NULL, risk_type VARCHAR, severity VARCHAR,
    explanation_zh VARCHAR, evidence JSON, monitored BOOLEAN
);
CREATE TABLE IF NOT EXISTS exclusion_hits (
    as_of_date DATE NOT NULL, county_code VARCHAR, township VARCHAR, village_code VARCHAR,
    household_id VARCHAR NOT NULL, check_code VARCHAR NOT NULL, explanation_zh VARCHAR, evidence JSON,
    monitored BOOLEAN
);
