-- Scoring: one row per household and delivery date (models/scoring.py).
CREATE TABLE IF NOT EXISTS household_scores (
    as_of_date DATE NOT NULL, county_code VARCHAR, township VARCHAR, village_code VARCHAR,
    household_id VARCHAR NOT NULL, household_type VARCHAR, monitored BOOLEAN, probability DOUBLE,
    risk_level VARCHAR NOT NULL, rule_codes VARCHAR NOT NULL, risk_types VARCHAR NOT NULL, severity_max VARCHAR,
    model_warning BOOLEAN NOT NULL, explanation_zh VARCHAR NOT NULL, top_features_zh VARCHAR NOT NULL,
    model_version VARCHAR
);

-- A household is flagged on a date when a rule fired for it or the model warned (the deliverables' 预警 start here).
CREATE OR REPLACE MACRO flagged(rule_codes, model_warning) AS ((rule_codes <> '' AND rule_codes <> 'MODEL') OR model_warning);

-- Kept beside household_scores by scored_day.sql, so that a day's outputs never read the scores' whole
-- history (a year of a province's daily scores is hundreds of millions of rows):
-- the first date each household was ever flagged (新增预警's 首次预警日期) ...
CREATE TABLE IF NOT EXISTS household_first_flags (household_id VARCHAR NOT NULL, first_flag_date DATE NOT NULL);
-- ... and the households scored in each county on each date (a county's previous delivery date).
CREATE TABLE IF NOT EXISTS scored_dates (as_of_date DATE NOT NULL, county_code VARCHAR, households BIGINT NOT NULL);
