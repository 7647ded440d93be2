-- Scoring: one row per household and delivery date (models/scoring.py).
CREATE TABLE IF NOT EXISTS household_scores (
    as_of_date DATE NOT NULL, county_code VARCHAR, township VARCHAR, village_code VARCHAR,
    household_id VARCHAR NOT NULL, household_type VARCHAR, monitored BOOLEAN, probability DOUBLE,
    risk_level VARCHAR NOT NULL, rule_codes VARCHAR NOT NULL, risk_types VARCHAR NOT NULL, severity_max VARCHAR,
    model_warning BOOLEAN NOT NULL, explanation_zh VARCHAR NOT NULL, top_features_zh VARCHAR NOT NULL,
    model_version VARCHAR
);
