-- The case ledger. Every table is append-only and tagged with processed_date, the delivery date whose run
-- wrote the row: re-processing date D deletes the rows with processed_date >= D and derives them again.
-- Current state is derived from case_events (cases is a cache rebuilt from them; cases_asof(d) replays any day).
CREATE TABLE IF NOT EXISTS workflow_runs (
    processed_date DATE PRIMARY KEY, policy_path VARCHAR, events BIGINT, cases_opened BIGINT, issues BIGINT
);
CREATE TABLE IF NOT EXISTS case_openings (
    case_id VARCHAR PRIMARY KEY, household_id VARCHAR NOT NULL, county_code VARCHAR, township VARCHAR,
    village_code VARCHAR, opened_date DATE NOT NULL, opening_source VARCHAR NOT NULL, processed_date DATE NOT NULL
);
CREATE TABLE IF NOT EXISTS case_events (
    case_id VARCHAR NOT NULL, event_seq INTEGER NOT NULL, household_id VARCHAR NOT NULL, event_date DATE NOT NULL,
    processed_date DATE NOT NULL, event VARCHAR NOT NULL,
    source VARCHAR,            -- 部门预警 / 模型预警 / 农户申请 / 干部排查 / 走访结果 / 公示结果 / 县级决定 / 自动比对 / 花名册 / 系统
    source_feed VARCHAR, source_file VARCHAR, source_row BIGINT, rule_codes VARCHAR,
    unit VARCHAR,              -- who acted: village, visitor, county unit
    old_state VARCHAR NOT NULL, new_state VARCHAR NOT NULL,
    risk_types VARCHAR,        -- ';'-joined standard risk types this event brings
    severity VARCHAR,          -- 高 / 中 / NULL
    green_channel BOOLEAN, task_id VARCHAR, batch_id VARCHAR,
    effective_date DATE,       -- the date the source row names (visit, decision, application, 风险识别时间)
    due_date DATE,             -- deadline of new_state after this event (NULL where none)
    source_ref VARCHAR,        -- application id / task id / batch id the event answers
    evidence_zh VARCHAR,
    prev_hash VARCHAR,         -- the hash chain (workflow/chain.py): event_hash of the previous event in ledger order
    event_hash VARCHAR,        -- sha256(prev_hash + sha256(canonical JSON of the event's fields))
    PRIMARY KEY (case_id, event_seq)
);
-- The chain head after each processed date (detects removed newest events).
CREATE TABLE IF NOT EXISTS ledger_chain (
    processed_date DATE PRIMARY KEY, events BIGINT NOT NULL, head_hash VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS visit_tasks (
    task_id VARCHAR PRIMARY KEY, case_id VARCHAR NOT NULL, household_id VARCHAR NOT NULL, county_code VARCHAR,
    township VARCHAR, village_code VARCHAR, purpose VARCHAR NOT NULL,  -- 排查 / 复核 / 风险消除
    issued_date DATE NOT NULL, due_date DATE NOT NULL, what_to_verify_zh VARCHAR, processed_date DATE NOT NULL
);
-- A task is closed by the event that used it (a result, or the case moving on); never updated in place.
CREATE TABLE IF NOT EXISTS visit_task_closures (
    task_id VARCHAR PRIMARY KEY, closed_date DATE NOT NULL, how VARCHAR NOT NULL, processed_date DATE NOT NULL
);
CREATE TABLE IF NOT EXISTS publication_batches (
    batch_id VARCHAR PRIMARY KEY, county_code VARCHAR, township VARCHAR, village_code VARCHAR NOT NULL,
    start_date DATE NOT NULL, end_date DATE NOT NULL, processed_date DATE NOT NULL
);
CREATE TABLE IF NOT EXISTS publication_members (
    batch_id VARCHAR NOT NULL, case_id VARCHAR NOT NULL, household_id VARCHAR NOT NULL,
    purpose VARCHAR NOT NULL,   -- 纳入 / 补充公示 / 风险消除
    processed_date DATE NOT NULL, PRIMARY KEY (batch_id, household_id)
);
CREATE TABLE IF NOT EXISTS publication_outcomes (
    batch_id VARCHAR NOT NULL, household_id VARCHAR NOT NULL, passed BOOLEAN NOT NULL, result_date DATE NOT NULL,
    processed_date DATE NOT NULL, PRIMARY KEY (batch_id, household_id)
);
CREATE TABLE IF NOT EXISTS workflow_issues (
    processed_date DATE NOT NULL, county_code VARCHAR, household_id VARCHAR, case_id VARCHAR, feed VARCHAR,
    file VARCHAR, "row" BIGINT, ref VARCHAR, kind VARCHAR NOT NULL, description_zh VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS elimination_candidates (
    as_of_date DATE NOT NULL, county_code VARCHAR, township VARCHAR, village_code VARCHAR, household_id VARCHAR NOT NULL,
    case_id VARCHAR, monitored_since DATE, monitored_months INTEGER, income_position DOUBLE, monitoring_line DOUBLE,
    last_rule_date DATE, evidence_zh VARCHAR
);
-- One row per case that is not closed (and per case closed that day), per processed date: what the day's
-- deliverables read (排查任务, 比对异常, 公示名单, 待确认, 逾期提醒, candidates.csv).
CREATE TABLE IF NOT EXISTS case_status_daily (
    as_of_date DATE NOT NULL, case_id VARCHAR NOT NULL, county_code VARCHAR, township VARCHAR, village_code VARCHAR,
    household_id VARCHAR NOT NULL, sources VARCHAR, risk_types VARCHAR, rule_codes VARCHAR, case_status VARCHAR NOT NULL,
    state_since DATE NOT NULL, due_date DATE, overdue BOOLEAN NOT NULL, days_overdue INTEGER, green_channel BOOLEAN,
    opened_date DATE, open_task_id VARCHAR, batch_id VARCHAR
);
-- The current cases (as of the newest processed date), rebuilt from case_events after every run.
-- cases: derived from case_events by workflow.ledger.rebuild_cases (replaced whole, no index; see there)
CREATE TABLE IF NOT EXISTS cases (
    case_id VARCHAR NOT NULL, household_id VARCHAR NOT NULL, county_code VARCHAR, township VARCHAR,
    village_code VARCHAR, opened_date DATE NOT NULL, sources VARCHAR, risk_types VARCHAR, rule_codes VARCHAR,
    state VARCHAR NOT NULL, state_since DATE NOT NULL, due_date DATE, green_channel BOOLEAN, monitored_since DATE,
    last_event_seq INTEGER, last_processed_date DATE
);
CREATE OR REPLACE VIEW visit_task_status AS
SELECT t.*, c.closed_date, c.how AS closed_how, CASE WHEN c.task_id IS NULL THEN '待走访' ELSE '已关闭' END AS status
FROM visit_tasks t LEFT JOIN visit_task_closures c USING (task_id);
-- Replay: every case as it stood after the run of date d (state, since, due date, sources, risk types).
CREATE OR REPLACE MACRO cases_asof(d) AS TABLE
WITH ev AS (SELECT * FROM case_events WHERE processed_date <= d),
agg AS (
    SELECT case_id,
           array_to_string(list_sort(list_distinct(list(source) FILTER (
               WHERE source IN ('部门预警', '模型预警', '农户申请', '干部排查', '花名册')))), ';') AS sources,
           array_to_string(list_sort(list_filter(list_distinct(flatten(list(string_split(coalesce(risk_types, ''), ';')))),
                                                 lambda x: x <> '')), ';') AS risk_types,
           array_to_string(list_sort(list_filter(list_distinct(flatten(list(string_split(coalesce(rule_codes, ''), ';')))),
                                                 lambda x: x <> '')), ';') AS rule_codes,
           coalesce(bool_or(green_channel), false) AS green_channel,
           max(event_date) FILTER (WHERE old_state <> new_state) AS state_since,
           min(effective_date) FILTER (WHERE new_state = '已纳入' AND old_state IN ('∅', '待确认')) AS monitored_since
    FROM ev GROUP BY case_id),
last AS (SELECT * FROM ev QUALIFY row_number() OVER (PARTITION BY case_id ORDER BY event_seq DESC) = 1)
SELECT o.case_id, o.household_id, o.county_code, o.township, o.village_code, o.opened_date, a.sources, a.risk_types,
       a.rule_codes, l.new_state AS state, a.state_since, l.due_date, a.green_channel, a.monitored_since,
       l.event_seq AS last_event_seq, l.processed_date AS last_processed_date
FROM case_openings o JOIN agg a USING (case_id) JOIN last l USING (case_id)
WHERE o.processed_date <= d;
-- A ledger made before the hash chain gets its columns (workflow/ledger.py hashes its events once).
ALTER TABLE case_events ADD COLUMN IF NOT EXISTS prev_hash VARCHAR;
ALTER TABLE case_events ADD COLUMN IF NOT EXISTS event_hash VARCHAR;
