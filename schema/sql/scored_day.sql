-- After household_scores is rewritten from $d on (models/scoring.py; the whole history when the schema changes), the
-- tables kept beside it (scoring.sql). Dates before $d cannot have moved; normally $d is the newest date, and only its
-- rows are read.
DELETE FROM scored_dates WHERE as_of_date >= $d::DATE;
INSERT INTO scored_dates
SELECT as_of_date, county_code, count(*) FROM household_scores WHERE as_of_date >= $d::DATE GROUP BY ALL;
-- A household with no first flag before $d can only be first flagged on $d or later.
DELETE FROM household_first_flags WHERE first_flag_date >= $d::DATE;
INSERT INTO household_first_flags
SELECT household_id, min(as_of_date) FROM household_scores
WHERE as_of_date >= $d::DATE AND flagged(rule_codes, model_warning)
  AND household_id NOT IN (SELECT household_id FROM household_first_flags)
GROUP BY 1;
