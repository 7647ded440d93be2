"""Risk model: leakage-free training set, training + card, safe artifacts, scoring, drift."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import timedelta

import numpy as np
import pytest
from model_helpers import LAST_DAY, copy_db, model_county, model_policy, trained_model  # noqa: F401

from fangfanpin.config.policy import PolicyError
from fangfanpin.models import artifacts
from fangfanpin.models.artifacts import ArtifactError
from fangfanpin.models.dataset import build_training_set
from fangfanpin.models.features import FEATURE_NAMES, FEATURES, LABEL_COLUMNS, LeakageError
from fangfanpin.models.scoring import COLUMNS, score_households

pytestmark = [pytest.mark.warehouse, pytest.mark.slow(seconds=35)]

HOUSEHOLD_ID = re.compile(r"150625\d{9}")
ID_NUMBER = re.compile(r"(?<![\d.])\d{17}[\dXx](?![\d])")


# --- training set -------------------------------------------------------------------------------------------------


def test_training_set_point_in_time_and_labels(model_county, tmp_path):
    con = copy_db(model_county["db"], tmp_path)
    policy = model_policy()
    ts = build_training_set(con, policy)
    assert ts.dates == model_county["dates"] and len(ts.dates) >= 5
    assert all(d + timedelta(days=90) <= LAST_DAY for d in ts.dates)  # every label window has closed
    assert ts.X.shape == (ts.frame.height, len(FEATURE_NAMES)) and 10 < ts.positives < ts.frame.height * 0.1
    # households monitored on the feature date are left out
    monitored = con.execute(
        "SELECT count(*) FROM household_indicators WHERE as_of_date = ? AND monitored", [ts.dates[0]]
    ).fetchall()[0][0]
    assert monitored > 0 and not ts.frame["monitored"].any()
    # every positive was confirmed within the horizon after its feature date, by a decision or the roster
    row = ts.frame.filter(ts.frame["label"]).row(0, named=True)
    found = con.execute(
        """SELECT count(*) FROM md_confirmations WHERE household_id = ? AND day > ? AND day <= ?""",
        [row["household_id"], row["as_of_date"], row["as_of_date"] + timedelta(days=90)],
    ).fetchall()
    assert found[0][0] >= 1
    assert not any(LABEL_COLUMNS & set(f.columns) for f in FEATURES)
    assert build_training_set(con, policy).fingerprint == ts.fingerprint  # deterministic


def test_fact_delivered_after_the_feature_date_cannot_enter_training(model_county, tmp_path):
    """A medical claim settled before the feature date but delivered after it changes the later indicators and
    never the features of the earlier date, even when that date is recomputed (backfilled) afterwards."""
    from fangfanpin.crosscheck import run_crosscheck

    con = copy_db(model_county["db"], tmp_path)
    policy = model_policy()
    day = model_county["dates"][2]
    before = build_training_set(con, policy, [day])
    household = con.execute(
        """SELECT household_id FROM household_indicators WHERE as_of_date = ? AND NOT monitored
                               AND oop_12m = 0 ORDER BY household_id LIMIT 1""",
        [day],
    ).fetchall()[0][0]
    late = day + timedelta(days=40)
    con.execute(
        """INSERT INTO medical_claims
        SELECT * REPLACE ('LATE-' || settlement_id AS settlement_id, ?::DATE - 10 AS settlement_date,
                          90000.0 AS personal_burden, 120000.0 AS total_cost, '住院' AS visit_type,
                          ?::DATE AS _delivery_date)
        FROM medical_claims WHERE id_number IN (SELECT id_number FROM roster WHERE household_id = ?)
          AND settlement_type = '正常' AND _delivery_date <= ?
        LIMIT 1""",
        [day, late, household, day],
    ).fetchall()
    if con.execute("SELECT count(*) FROM medical_claims WHERE settlement_id LIKE 'LATE-%'").fetchall()[0][0] == 0:
        con.execute(
            """INSERT INTO medical_claims SELECT * REPLACE ('LATE-X' AS settlement_id, ?::DATE - 10 AS settlement_date,
                       90000.0 AS personal_burden, 120000.0 AS total_cost, '住院' AS visit_type, ?::DATE AS _delivery_date,
                       r.id_number AS id_number)
                       FROM medical_claims, (SELECT id_number FROM roster WHERE household_id = ? LIMIT 1) r
                       WHERE settlement_type = '正常' LIMIT 1""",
            [day, late, household],
        ).fetchall()
    later = min(d for d in model_county["dates"] if d >= late)
    run_crosscheck(con, later, policy)  # the late claim is seen from its delivery on
    seen = con.execute(
        "SELECT oop_12m FROM household_indicators WHERE as_of_date = ? AND household_id = ?", [later, household]
    ).fetchall()[0][0]
    assert seen >= 90000
    con.execute("DELETE FROM household_indicators WHERE as_of_date = ?", [day])
    after = build_training_set(con, policy, [day])  # backfills `day` from the point-in-time views
    assert after.fingerprint == before.fingerprint
    i = after.frame["household_id"].to_list().index(household)
    assert after.X[i, FEATURE_NAMES.index("log_oop_12m")] == 0


def test_indicator_dated_after_its_feature_date_is_refused(model_county, tmp_path):
    con = copy_db(model_county["db"], tmp_path)
    day = model_county["dates"][1]
    con.execute(
        """UPDATE household_indicators SET new_dibao_start = as_of_date + 5
                   WHERE as_of_date = ? AND household_id = (SELECT min(household_id) FROM household_indicators
                                                            WHERE as_of_date = ?)""",
        [day, day],
    )
    with pytest.raises(LeakageError, match=str(day)):
        build_training_set(con, model_policy())


# --- training, card, artifacts ------------------------------------------------------------------------------------


def test_training_writes_a_versioned_card_without_personal_data(trained_model):
    result = trained_model["result"]
    assert result.status in ("promoted", "not_promoted") and result.version
    folder = trained_model["model_dir"] / result.version
    assert {p.name for p in folder.iterdir()} >= {"model.skops", "card.json", "card.md", "calibration.png"}
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    for key in ("training_dates", "validation_dates", "features", "data_fingerprint", "code_version", "model_sha256"):
        assert card[key]
    assert max(card["training_dates"]) < min(card["validation_dates"])  # time-based split
    assert set(card["candidates"]) == {"logistic_regression", "hist_gradient_boosting"}
    val = card["validation"]
    assert 0.5 < val["model"]["roc_auc"] <= 1 and val["rules"]["roc_auc"] is not None
    assert {"rules_alone", "model_equal_workload", "rules_at_capacity", "model_at_capacity"} <= set(val["workload"])
    # what the county gets: the production configuration against the rules alone, with its interval
    prod, rules = val["workload"]["production"], val["workload"]["rules_alone"]
    assert prod["workload"] == rules["workload"] + prod["model_warnings"] and prod["recall"] >= rules["recall"]
    gain = val["production_gain"]
    assert gain["difference"] == pytest.approx(prod["recall"] - rules["recall"], abs=2e-4)
    assert gain["ci95"][0] <= gain["difference"] <= gain["ci95"][1] and gain["resamples"] == 1000
    assert set(val["first_k"]) == {"rules_order", "priority_order", "probability_order"}
    assert all(set(v) == {"1", "3", "5"} for v in val["first_k"].values())
    assert sum(r["positives"] for r in val["by_township"].values()) == val["positives"]
    assert sum(r["positives"] for r in val["by_household_type"].values()) == val["positives"]
    windows = card["backtest"]["windows"]
    assert len(windows) >= 2 and card["backtest"]["recall_gain"]["mean"] is not None
    assert [w["date"] for w in windows] == sorted(w["date"] for w in windows)
    assert 0 < card["base_rate"] < 0.2
    assert card["truth_validation"]["model"]["roc_auc"] is not None
    text = (folder / "card.md").read_text(encoding="utf-8")
    assert "结论" in text and "仅规则" in text and "生成器真值" in text
    assert "95% 区间" in text and "滚动回测" in text and "按户类型" in text and "每村前 k 项" in text
    assert card["gate"]["promoted"] == (result.status == "promoted")
    # no household id or ID number anywhere in the artifact
    blobs = [(folder / "card.json").read_bytes(), (folder / "card.md").read_bytes()]
    with zipfile.ZipFile(folder / "model.skops") as zf:
        blobs += [zf.read(n) for n in zf.namelist()]
    for blob in blobs:
        text = re.sub("[0-9a-f]{64}", "", blob.decode("utf-8", errors="ignore"))  # a sha256 may hold 18 digits in a row
        assert not HOUSEHOLD_ID.search(text) and not ID_NUMBER.search(text)


def test_model_worse_than_rules_is_not_promoted(trained_model):
    from fangfanpin.models.training import promotion_gate

    def metrics(model_recall, rules_recall, auc, production_recall=0.6, lo=0.02, production_visits=110):
        return {
            "model": {"roc_auc": auc},
            "workload": {
                "model_equal_workload": {"recall": model_recall},
                "rules_alone": {"recall": rules_recall, "workload": 100},
                "production": {"recall": production_recall, "workload": production_visits},
            },
            "production_gain": {"difference": production_recall - rules_recall, "ci95": [lo, 0.2]},
            "by_household_type": {"脱贫户": {"positives": 12, "rules_alone": 0.5, "model_equal_workload": 0.5}},
        }

    settings = model_policy().model
    assert settings.promote_type_min_positives == 10
    checks = ["auc_ok", "beats_rules_at_equal_workload", "production_gain", "fair_by_household_type"]

    def failed(m):
        return [k for k in checks if not promotion_gate(m, settings)[k]]

    assert failed(metrics(0.6, 0.5, 0.8)) == []
    assert failed(metrics(0.4, 0.5, 0.9)) == ["beats_rules_at_equal_workload"]
    assert failed(metrics(0.6, 0.5, 0.55)) == ["auc_ok"]
    assert failed(metrics(0.6, 0.5, 0.8, production_recall=0.52)) == ["production_gain"]  # gain below 0.05
    assert failed(metrics(0.6, 0.5, 0.8, lo=0.0)) == ["production_gain"]  # interval reaches 0
    assert failed(metrics(0.6, 0.5, 0.8, production_visits=120)) == ["production_gain"]  # 20 % more visits
    result = trained_model["result"]
    gate = result.card["gate"]
    assert gate["promoted"] == all(gate[k] for k in checks) == (result.status == "promoted")
    if result.status == "not_promoted":
        assert "未启用" in result.message


def test_gate_refuses_a_model_that_neglects_a_household_type(trained_model, tmp_path):
    """The trained model scored as it is passes the fairness check; the same model with every 脱贫户 scored 0 finds
    none of them at the rules' workload, below half the rules' recall there, and is refused."""
    from fangfanpin.models.training import _evaluate, predict, promotion_gate

    con = copy_db(trained_model["db"], tmp_path)
    policy = model_policy()
    ts = build_training_set(con, policy, backfill=False)
    val = ts.frame["as_of_date"].is_in(ts.dates[-2:]).to_numpy()
    loaded = artifacts.load_promoted(trained_model["model_dir"])
    p = predict(loaded.model, ts.X[val], loaded.card["negative_weight"])
    base = float(ts.y[~val].mean())
    fair = _evaluate(con, ts, val, p, policy, ts.y[val], base)
    poor = fair["by_household_type"]["脱贫户"]
    assert poor["positives"] > 0 and poor["rules_alone"] > 0
    assert set(fair["by_household_type"]) <= {"脱贫户", "一般农户", "监测户"}
    neglect = (ts.frame.filter(val)["household_type"] == "脱贫户").to_numpy()
    unfair = _evaluate(con, ts, val, np.where(neglect, 0.0, p), policy, ts.y[val], base)
    assert unfair["by_household_type"]["脱贫户"]["model_equal_workload"] == 0
    # the small test county has few positives per type: gate the types with at least as many as 脱贫户 has
    gated = model_policy(model={"promote_type_min_positives": poor["positives"]}).model
    assert promotion_gate(fair, gated)["fair_by_household_type"] is True
    assert promotion_gate(unfair, gated)["fair_by_household_type"] is False
    # a type with fewer positives than the policy asks for is shown on the card but does not decide
    few = model_policy(model={"promote_type_min_positives": poor["positives"] + 1000}).model
    assert promotion_gate(unfair, few)["fair_by_household_type"] is True


def test_tampered_artifact_is_refused(trained_model, tmp_path):
    import shutil

    model_dir = tmp_path / "models"
    shutil.copytree(trained_model["model_dir"], model_dir)
    assert artifacts.load_promoted(model_dir).model is not None
    version = artifacts.promoted_version(model_dir)["version"]
    path = model_dir / version / "model.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="refusing"):
        artifacts.load_promoted(model_dir)
    con = copy_db(trained_model["db"], tmp_path)
    with pytest.raises(ArtifactError):
        score_households(con, LAST_DAY, model_policy(), model_dir)


def test_a_card_changed_after_loading_is_checked_again(trained_model, tmp_path):
    """The process keeps a loaded model for the same file bytes; the card beside it is still checked on every load."""
    import shutil

    model_dir = tmp_path / "models"
    shutil.copytree(trained_model["model_dir"], model_dir)
    assert artifacts.load_promoted(model_dir).model is not None  # now kept by this process
    version = artifacts.promoted_version(model_dir)["version"]
    card_path = model_dir / version / "card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["features"] = card["features"][:-1]
    card_path.write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ArtifactError, match="feature list"):
        artifacts.load_promoted(model_dir)


def test_artifact_with_code_types_is_refused(trained_model, tmp_path):
    """A skops file naming a type outside the allow-list is refused even with a matching hash."""
    import skops.io as sio

    model_dir = tmp_path / "models"
    (model_dir / "v-bad").mkdir(parents=True)
    sio.dump({"fn": np.polyfit}, model_dir / "v-bad" / "model.skops")
    card = {"features": list(FEATURE_NAMES), "model_sha256": artifacts.sha256(model_dir / "v-bad" / "model.skops")}
    (model_dir / "v-bad" / "card.json").write_text(json.dumps(card), encoding="utf-8")
    artifacts.promote(model_dir, "v-bad")
    with pytest.raises(ArtifactError, match="allow-list"):
        artifacts.load_promoted(model_dir)


def _pointer(model_dir, version, sha=None) -> None:
    (model_dir / "promoted").write_text(json.dumps({"version": version, "sha256": sha}), encoding="utf-8")


def _elsewhere(model_dir, version):
    """A valid copy of the promoted model outside the model folder (hash and card intact)."""
    import shutil

    target = model_dir.parent / "elsewhere" / version
    shutil.copytree(model_dir / version, target)
    return target


def _flip_a_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _rehashed_garbage(model_dir, version) -> None:
    """Bytes that are no skops file, with the card's and the pointer's hashes made to match them."""
    path = model_dir / version / "model.skops"
    path.write_bytes(b"PK\x03\x04 not a model")
    card = artifacts.load_card(model_dir, version)
    (model_dir / version / "card.json").write_text(
        json.dumps(dict(card, model_sha256=artifacts.sha256(path))), encoding="utf-8"
    )
    _pointer(model_dir, version, artifacts.sha256(path))


# each: (model folder, promoted version) → damage as found on disk
DAMAGE = {
    "parent_dir": lambda d, v: (
        _elsewhere(d, v),
        _pointer(d, f"../elsewhere/{v}", artifacts.sha256(d / v / "model.skops")),
    ),
    "absolute_path": lambda d, v: _pointer(d, str(_elsewhere(d, v)), artifacts.sha256(d / v / "model.skops")),
    "symlink_out": lambda d, v: (
        (d / "linked").symlink_to(_elsewhere(d, v), target_is_directory=True),
        _pointer(d, "linked"),
    ),
    "dot": lambda d, v: _pointer(d, "."),
    "garbage_pointer": lambda d, v: (d / "promoted").write_bytes(b"\x00\xff{version"),
    "pointer_not_an_object": lambda d, v: (d / "promoted").write_text(json.dumps([v]), encoding="utf-8"),
    "pointer_without_version": lambda d, v: (d / "promoted").write_text("{}", encoding="utf-8"),
    "model_missing": lambda d, v: (d / v / "model.skops").unlink(),
    "model_tampered": lambda d, v: _flip_a_byte(d / v / "model.skops"),
    "model_unreadable": lambda d, v: ((d / v / "model.skops").unlink(), (d / v / "model.skops").mkdir()),
    "model_garbage_rehashed": lambda d, v: _rehashed_garbage(d, v),
    "card_not_json": lambda d, v: (d / v / "card.json").write_text("{", encoding="utf-8"),
    "card_other_features": lambda d, v: (d / v / "card.json").write_text(
        json.dumps(dict(artifacts.load_card(d, v), features=list(FEATURE_NAMES)[:-1])), encoding="utf-8"
    ),
    "card_without_reference": lambda d, v: (d / v / "card.json").write_text(
        json.dumps({k: x for k, x in artifacts.load_card(d, v).items() if k != "reference"}), encoding="utf-8"
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_an_unusable_promoted_model_is_skipped_with_a_reason(trained_model, tmp_path, damage):
    """A pointer that leads outside the model folder, or a broken model or card, is refused with a Chinese reason;
    a valid model somewhere else is refused as well."""
    import shutil

    model_dir = tmp_path / "models"
    shutil.copytree(trained_model["model_dir"], model_dir)
    assert artifacts.usable_promoted(model_dir)[0] is not None
    DAMAGE[damage](model_dir, artifacts.promoted_version(model_dir)["version"])
    loaded, reason = artifacts.usable_promoted(model_dir)
    assert loaded is None and reason and re.search("[\u4e00-\u9fff]", reason), reason
    assert "模型" in reason or "启用指针" in reason
    with pytest.raises(ArtifactError):
        artifacts.load_promoted(model_dir)


def test_no_model_promoted_is_not_a_problem(tmp_path):
    assert artifacts.usable_promoted(tmp_path / "models") == (None, None)


# --- scoring ------------------------------------------------------------------------------------------------------


def test_scoring_without_a_model_uses_rules_alone(model_county, tmp_path):
    con = copy_db(model_county["db"], tmp_path)
    rows = score_households(con, LAST_DAY, model_policy(), tmp_path / "no_models")
    households = con.execute("SELECT count(*) FROM household_indicators WHERE as_of_date = ?", [LAST_DAY]).fetchall()[
        0
    ][0]
    assert rows == households
    assert [r[0] for r in con.execute("DESCRIBE household_scores").fetchall()] == list(COLUMNS)
    got = con.execute(
        """SELECT count(probability), count(*) FILTER (WHERE model_warning),
                                count(*) FILTER (WHERE risk_level = '高' AND severity_max IS DISTINCT FROM '高'),
                                count(*) FILTER (WHERE risk_level = '中' AND rule_codes = ''),
                                count(*) FILTER (WHERE risk_level = '低' AND rule_codes <> ''),
                                count(*) FILTER (WHERE rule_codes <> '' AND explanation_zh = ''),
                                count(*) FILTER (WHERE model_version IS NOT NULL)
                         FROM household_scores WHERE as_of_date = ?""",
        [LAST_DAY],
    ).fetchall()[0]
    assert got == (0, 0, 0, 0, 0, 0, 0)
    hits = con.execute("SELECT count(DISTINCT household_id) FROM rule_hits WHERE as_of_date = ?", [LAST_DAY]).fetchall()
    assert con.execute("SELECT count(*) FROM household_scores WHERE rule_codes <> ''").fetchall() == hits
    assert score_households(con, LAST_DAY, model_policy(), tmp_path / "no_models") == rows  # delete-then-insert
    assert con.execute("SELECT count(*) FROM household_scores").fetchall()[0][0] == rows
    # the tables kept beside the scores, in the same transaction
    assert con.execute("SELECT households FROM scored_dates").fetchall() == [(rows,)]
    assert con.execute("SELECT count(*), min(first_flag_date) FROM household_first_flags").fetchall() == [
        (hits[0][0], LAST_DAY)
    ]


def test_scoring_with_a_model_levels_warnings_and_capacity(trained_model, tmp_path):
    con = copy_db(trained_model["db"], tmp_path)
    policy = model_policy(
        risk_levels={
            "model_warning_min_lift": 1,
            "medium_probability": 0.05,
            "high_probability": 0.2,
            "model_capacity_per_village_per_week": 2,
        },
        model={"explain_min_probability": 0.01},
    )
    thursday = LAST_DAY - timedelta(days=1)
    assert thursday.isocalendar().week == LAST_DAY.isocalendar().week
    for day in (thursday, LAST_DAY):
        assert score_households(con, day, policy, trained_model["model_dir"]) > 1000
    rows = con.sql("SELECT * FROM household_scores WHERE as_of_date = ?", params=[LAST_DAY]).pl()
    assert rows["probability"].null_count() == 0 and rows["model_version"].n_unique() == 1
    p, sev = rows["probability"].to_numpy(), rows["severity_max"].fill_null("").to_numpy()
    ruled = rows["rule_codes"].is_in(["", "MODEL"]).not_().to_numpy()
    expected = np.where((sev == "高") | (p >= 0.2), "高", np.where(ruled | (p >= 0.05), "中", "低"))
    assert (rows["risk_level"].to_numpy() == expected).all()
    warned = rows.filter(rows["model_warning"])
    assert warned.height > 0
    assert (warned["rule_codes"] == "MODEL").all() and not warned["monitored"].any()
    base = trained_model["result"].card["base_rate"]
    assert (warned["probability"] >= base).all() and warned["severity_max"].null_count() == warned.height
    assert all(t.startswith("模型预警：") and "概率" in t and "倍" in t for t in warned["explanation_zh"])
    # every model warning names the features that raised its probability most, in Chinese (not the fallback)
    assert all(t and "多项指标综合" not in e for t, e in zip(warned["top_features_zh"], warned["explanation_zh"]))
    assert all(rt for rt in warned["risk_types"])
    explained = rows.filter(rows["probability"] >= 0.05)
    assert (explained["top_features_zh"] != "").mean() > 0.9
    # the weekly capacity holds across the two days of the same week
    per_village = con.execute("""SELECT village_code, count(DISTINCT household_id) FROM household_scores
                                 WHERE model_warning GROUP BY 1 ORDER BY 2 DESC LIMIT 1""").fetchall()
    assert per_village[0][1] <= 2
    # on the week's first scoring day the highest-probability rule-less candidates of a village come first; later
    # that week the households already warned keep their places
    first = con.sql("SELECT * FROM household_scores WHERE as_of_date = ?", params=[thursday]).pl()
    village = first.filter(first["model_warning"])["village_code"][0]
    cands = first.filter(
        (first["village_code"] == village) & (first["rule_codes"].is_in(["", "MODEL"])) & ~first["monitored"]
    ).sort("probability", descending=True)
    assert cands["model_warning"][0]
    kept = set(first.filter(first["model_warning"])["household_id"]) & set(
        rows.filter(rows["rule_codes"].is_in(["", "MODEL"]) & (rows["probability"] >= base))["household_id"]
    )
    assert kept <= set(warned["household_id"])


def test_drift_check_names_the_features_that_moved(trained_model, tmp_path):
    from fangfanpin.models.drift import drift_report

    con = copy_db(trained_model["db"], tmp_path)
    policy = model_policy()

    def oop_psi(report):
        return next(v for label, v in report["table"] if "log_oop_12m" in label)

    quiet = drift_report(con, LAST_DAY, policy, trained_model["model_dir"])
    assert quiet["version"] and len(quiet["table"]) == len(FEATURE_NAMES)
    con.execute("UPDATE household_indicators SET oop_12m = oop_12m * 40 + 30000 WHERE as_of_date = ?", [LAST_DAY])
    moved = drift_report(con, LAST_DAY, policy, trained_model["model_dir"])
    assert oop_psi(moved) > max(policy.model.drift_psi_warn, oop_psi(quiet) + 0.5)
    assert any("log_oop_12m" in m and "医疗费用" in m for m in moved["moved"])
    assert drift_report(con, LAST_DAY, policy, tmp_path / "none")["moved"] == []


def test_policy_model_section_is_validated():
    with pytest.raises(PolicyError, match="model.calibration"):
        model_policy(model={"calibration": "platt"})
    with pytest.raises(PolicyError, match="model.validation_months"):
        model_policy(model={"validation_months": 12})
    assert model_policy().model.horizon_days == 90
    with pytest.raises(PolicyError, match="model_warning_min_lift"):
        model_policy(risk_levels={"model_warning_min_lift": 0.5})
    with pytest.raises(PolicyError, match="replaced by model_warning_min_lift"):  # the old absolute threshold
        model_policy(risk_levels={"model_warning_probability": 0.3})
    with pytest.raises(PolicyError, match="model.promote_min_type_recall_share"):
        model_policy(model={"promote_min_type_recall_share": 1.5})
