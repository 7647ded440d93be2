"""The command's arguments and its terminal lines without running a date (docs/operations.md): ``--help`` gives the
date format and the exit statuses; a date that is not real, or any bad option, is refused with exit 1 and no
traceback (a bad date in one line) before anything is created; the progress line's estimate; the summary table's
columns line up with Chinese headers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fangfanpin.assets.delivery_runs import Plan
from fangfanpin.data_contracts import FEED_NAMES
from fangfanpin.deliverables import render_pool
from fangfanpin.pipeline import launch
from fangfanpin.pipeline.cli import build_parser, main
from fangfanpin.pipeline.progress import Progress
from fangfanpin.pipeline.run_summary import DaySummary, _width, format_summary

pytestmark = pytest.mark.unit


def _help(*command: str) -> str:
    parser = build_parser()
    if command:
        (sub,) = [a for a in parser._actions if a.dest == "command"]
        parser = sub.choices[command[0]]
    return parser.format_help()


def test_help_gives_the_date_format_and_the_exit_statuses():
    for text in (_help(), _help("run")):
        assert "YYYY-MM-DD" in text
        for status, meaning in (("0", "every delivery was applied"), ("1", "refused"), ("2", "needs an operator")):
            assert any(line.lstrip().startswith(f"{status}  ") for line in text.splitlines()), status
            assert meaning in text
    for command in ("accept", "generate"):
        assert "YYYY-MM-DD" in _help(command)
    assert "date n of N" in _help("run") and "summary per date" in _help("run")


LATER = (date.today() + timedelta(days=2)).isoformat()  # after today in every time zone


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["run", "--date", "2026-13-01"], "2026-13-01"),
        (["run", "--date", "2026-02-30"], "2026-02-30"),
        (["run", "--date", "20260917"], "20260917"),
        (["run", "--date", "2026-9-18"], "2026-9-18"),
        (["run", "--date", "yesterday"], "yesterday"),
        (["run", "--date", LATER], LATER),
        (["run", "--date", "2023-06-01"], "2023-06-01"),  # before the first delivery date
        (["accept", "--date", "2026-02-30", "--feed", "roster"], "2026-02-30"),
        (["accept", "--date", "2026-13-01", "--feed", "roster"], "2026-13-01"),
        (["generate", "--out", "g", "--start", "xx"], "--start 'xx'"),
        (["generate", "--out", "g", "--end", "2026-02-30"], "--end '2026-02-30'"),
        (["generate", "--out", "g", "--start", "2026-11-20", "--end", "2026-11-01"], "--end 2026-11-01"),
    ],
)
def test_a_date_that_cannot_be_used_is_one_line_and_exit_1(argv, named, ffp_env, capsys, monkeypatch):
    monkeypatch.chdir(ffp_env)
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert named in err and " / " in err  # Chinese, then English
    assert sorted(p.name for p in ffp_env.iterdir()) == ["landing"]  # nothing was made: no warehouse, instance, data


def test_the_feed_is_named_when_unknown(ffp_env, capsys):
    assert main(["accept", "--date", "2026-11-19", "--feed", "rosters"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "rosters" in err and all(f in err for f in FEED_NAMES)
    assert not (ffp_env / "warehouse.duckdb").exists()


@pytest.mark.parametrize(
    "argv",
    [["run"], ["run", "--pending", "--date", "2026-11-19"], ["generate", "--out", "g", "--households", "-3"], []],
)
def test_a_bad_option_exits_1_not_2(argv, ffp_env, capsys):
    """2 means a delivery needs an operator; argparse's own status would say so of a typing error."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("usage: fangfanpin") and "error:" in err and "Traceback" not in err


def test_an_id_number_given_as_a_value_is_masked(ffp_env, capsys):
    person = "15062519800101123X"
    assert main(["run", "--date", person]) == 1
    with pytest.raises(SystemExit):
        main(["generate", "--out", "g", "--households", person])
    err = capsys.readouterr().err
    assert person not in err and err.count("150625********123X") == 3  # twice in the date line


def test_progress_estimates_the_time_left_from_the_dates_done():
    now = [100.0]
    progress = Progress(4, clock=lambda: now[0])
    assert progress.starting(date(2026, 11, 18)) == "[1/4] 2026-11-18 开始 / date 1 of 4: starting"
    now[0] += 90
    progress.finished()
    assert progress.starting(date(2026, 11, 19)) == (
        "[2/4] 2026-11-19 已用 1:30，预计还需 4:30 / date 2 of 4: 1:30 elapsed, about 4:30 left"
    )
    now[0] += 30
    progress.finished()
    line = progress.starting(date(2026, 11, 20), total=5)  # the plan grew by a date
    assert line.startswith("[3/5] 2026-11-20 已用 2:00，预计还需 3:00 / ")


def test_the_summary_table_lines_up_under_chinese_headers():
    rows = [
        DaySummary(date(2026, 11, 19), 12, 1_234_567, 23, 1, 2, 416, 24, 12, 30, 3),
        DaySummary(date(2026, 11, 20), 3, 44, 0, 0, 0, 0, 440, 0, 5, 7),
    ]
    lines = format_summary(rows, 75)
    assert lines[0].startswith("运行小结：2 个交付日期，用时 1:15") and "summary of 2 delivery date(s)" in lines[0]
    table = lines[1:4]
    assert len({_width(line) for line in table}) == 1  # every column right-aligned under its header
    assert table[1].split() == [
        "2026-11-19",
        f"12/{len(FEED_NAMES)}",
        "1,234,567",
        "23",
        "1",
        "2",
        "416",
        "24",
        "12",
    ] + [
        "30",
        "3",
    ]
    assert all(_width(line) <= 100 for line in lines[4:]) and "households newly flagged" in " ".join(lines[4:])
    assert format_summary([], 0) == []


@pytest.mark.parametrize(("dates", "kept"), [(1, False), (2, True)])
def test_a_plan_of_several_dates_keeps_render_workers_across_them(dates, kept, ffp_env, monkeypatch):
    seen = []

    def run_day(instance, day, reason=None):
        seen.append(render_pool._kept is not None)
        return launch.EXIT_OK

    monkeypatch.setattr(launch, "run_day", run_day)
    monkeypatch.setattr(launch, "print_summary", lambda days, progress: None)
    monkeypatch.setenv("FFP_RENDER_WORKERS", "2")
    days = [date(2026, 11, 20) + timedelta(days=i) for i in range(dates)]
    assert launch.run_plan(None, Plan(days)) == launch.EXIT_OK
    assert seen == [kept] * dates
    assert render_pool._kept is None
