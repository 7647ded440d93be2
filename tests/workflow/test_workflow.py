"""The case ledger on a scripted county (fast): working days, the state table, opening from each source, 比对异常,
绿色通道 with 补充公示 and an upheld objection, publication, decisions, events that do not fit (reported, not applied),
cool-down, overdue, 风险消除, and idempotent re-runs (same day, earlier day recomputes forward, or refuses)."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest
from ledger_story import (
    COUNTY,
    D1,
    D2,
    D3,
    D4,
    D5,
    D6,
    TOWNSHIP,
    VILLAGE,
    WF,
    H,
    assert_ledger_invariants,
    insert_indicators,
    insert_rows,
    insert_rule_hit,
    run_story,
)

from fangfanpin.config.policy import load_policy
from fangfanpin.workflow import LedgerError, ensure_schema, ledger, ledger_dump, run_workflow
from fangfanpin.workflow import states as S
from fangfanpin.workflow.load import load_cases
from fangfanpin.workflow.write import write_day

pytestmark = pytest.mark.dagster


def test_scripted_county_story(county):
    run_story(county)
    assert_ledger_invariants(county)
    # a new risk type re-opens within the cool-down, as a second (new) case
    insert_rule_hit(county, D6, 1, "EDU-DROPOUT", "义务教育阶段失学辍学", "高")
    run_workflow(county, D6)
    cases = county.execute(
        "SELECT case_id, state FROM cases WHERE household_id = ? ORDER BY case_id", [H[1]]
    ).fetchall()
    assert [s for _, s in cases] == [S.不予纳入, S.待排查]
    assert cases[1][0] == f"AJ-{H[1]}-20261112"
    assert_ledger_invariants(county)


def test_rerunning_a_day_is_byte_identical_and_earlier_days_recompute_forward(county):
    run_story(county)
    before = ledger_dump(county)
    run_workflow(county, D6)  # the newest day again
    assert ledger_dump(county) == before
    result = run_workflow(county, D3)  # an earlier day: recompute D3, D4, D5, D6
    assert result.recomputed == [D3, D4, D5, D6]
    assert ledger_dump(county) == before
    with pytest.raises(LedgerError, match="recompute forward") as err:
        run_workflow(county, D2, recompute_forward=False)
    assert "案件台账已处理到 2026-11-12" in str(err.value)
    assert ledger_dump(county) == before  # the refusal changed nothing


def test_replay_any_day_from_events(county):
    run_story(county)
    on_d3 = dict(county.execute("SELECT household_id, state FROM cases_asof(?)", [D3]).fetchall())
    assert on_d3[H[1]] == S.公示中 and on_d3[H[2]] == S.已纳入 and on_d3[H[3]] == S.消除公示中
    status = dict(
        county.execute("SELECT household_id, case_status FROM case_status_daily WHERE as_of_date = ?", [D3]).fetchall()
    )
    assert status[H[1]] == S.公示中


def test_failed_run_leaves_the_ledger_untouched(county, monkeypatch):
    run_story(county)
    before = ledger_dump(county)

    def write_then_fail(con, day, decisions):
        write_day(con, day, decisions)  # the day's rows are in the warehouse when the run fails
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(ledger, "write_day", write_then_fail)
    with pytest.raises(RuntimeError):
        run_workflow(county, D4)
    assert ledger_dump(county) == before


def test_dagster_asset_materializes_the_ledger(tmp_path):
    import re

    from dagster_helpers import materialize_day

    from fangfanpin.assets.resources import pipeline_resources
    from fangfanpin.assets.workflow import workflow_assets

    db = tmp_path / "asset.duckdb"
    con = duckdb.connect(str(db))
    ensure_schema(con)
    insert_indicators(con, D1)
    insert_rule_hit(con, D1, 1)
    con.close()
    result = materialize_day(
        workflow_assets, partition_key=D1.isoformat(), resources=pipeline_resources(warehouse=str(db))
    )
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["cases_opened_today"].value == 2  # H1 by its rule, H3 from the roster
    text = " ".join(str(v.value) for v in metadata.values())
    assert "待排查" in text and not re.search(r"\d{17}[\dXx]", text)
    again = materialize_day(
        workflow_assets, partition_key=D1.isoformat(), resources=pipeline_resources(warehouse=str(db))
    )
    assert again.success
    with duckdb.connect(str(db)) as con:
        assert con.execute("SELECT count(*) FROM cases").fetchall()[0][0] == 2


def test_model_warnings_respect_the_weekly_village_capacity(county):
    capacity = load_policy().risk_levels.model_capacity_per_village_per_week
    extra = {f"15062510020199{i:03d}": 0.30 + i / 100 for i in range(capacity + 3)}
    for day in (D1, D2):
        insert_indicators(county, day)
        for hid, p in extra.items():
            insert_rows(
                county,
                "household_indicators",
                [
                    {
                        "as_of_date": day,
                        "county_code": COUNTY,
                        "township": TOWNSHIP,
                        "village_code": VILLAGE,
                        "household_id": hid,
                        "monitored": False,
                    }
                ],
            )
            insert_rows(
                county,
                "household_scores",
                [
                    {
                        "as_of_date": day,
                        "county_code": COUNTY,
                        "village_code": VILLAGE,
                        "household_id": hid,
                        "monitored": False,
                        "probability": p,
                        "risk_level": "中",
                        "rule_codes": "MODEL",
                        "risk_types": "其他",
                        "model_warning": True,
                        "explanation_zh": "模型预警",
                        "top_features_zh": "",
                    }
                ],
            )
        run_workflow(county, day)
    opened = county.execute(
        "SELECT household_id FROM case_openings WHERE opening_source = '模型预警' ORDER BY 1"
    ).fetchall()
    # the same week (Mon D1, Tue D2): only `capacity` model-only cases in the village, highest probability first
    assert [r[0] for r in opened] == sorted(extra, key=lambda h: -extra[h])[:capacity][::-1]


def test_a_day_loads_only_the_cases_it_can_touch(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    ensure_schema(con)
    day, long_ago = D6, D6 - timedelta(days=WF.declined_cooldown_days + 30)
    cases = {
        "open": (S.待排查, D5, D5),
        "monitored": (S.已纳入, D1, D1),
        "declined_recently": (S.不予纳入, D1, D6 - timedelta(days=WF.declined_cooldown_days - 1)),
        "declined_long_ago": (S.不予纳入, long_ago, long_ago),
        "eliminated": (S.风险消除, long_ago, long_ago),
        "named_by_a_publication": (S.风险消除, long_ago, long_ago),
        "opened_today": (S.不予纳入, day, day),
    }
    insert_rows(
        con,
        "cases",
        [
            {
                "case_id": name,
                "household_id": f"H-{name}",
                "opened_date": opened,
                "state": state,
                "state_since": since,
                "last_event_seq": 1,
            }
            for name, (state, opened, since) in cases.items()
        ],
    )
    loaded = load_cases(con, day, WF.declined_cooldown_days, ["named_by_a_publication"])
    assert sorted(loaded) == sorted(
        ["open", "monitored", "declined_recently", "named_by_a_publication", "opened_today"]
    )
    assert loaded["declined_recently"].state == S.不予纳入 and loaded["open"].state_since == D5
