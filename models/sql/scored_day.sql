-- After household_scores is rewritten for $d (models/scoring.py), the tables kept beside it (schema/sql/scoring.sql).
DELETE FROM scored_dates WHERE as_of_date = $d::DATE;
INSERT INTO scored_dates
SELECT as_of_date, county_code, count(*) FROM household_scores WHERE as_of_date = $d::DATE GROUP BY ALL;
-- A first flag on $d or later may have moved with the day's new scores; one before it cannot have. Normally $d is the
-- newest date, and only its rows are read.
DELETE FROM household_first_flags WHERE first_flag_date >= $d::DATE;
INSERT INTO household_first_flags
SELECT household_id, min(as_of_date) FROM household_scores
WHERE as_of_date >= $d::DATE AND flagged(rule_codes, model_warning)
  AND household_id NOT IN (SELECT household_id FROM household_first_flags)
GROUP BY 1;
