-- Which delivery dates are done: one row per date a run ever touched (assets/delivery_runs.py).
CREATE TABLE IF NOT EXISTS delivery_runs (
    delivery_date DATE PRIMARY KEY, run_id VARCHAR, status VARCHAR NOT NULL, started_at TIMESTAMP,
    finished_at TIMESTAMP, files VARCHAR
);
