"""``watchwall metrics``, ``watchwall demo-data`` and unusable database URLs, in-process."""

from __future__ import annotations

import json

import pytest

from watchwall.roles.cli import main


def test_metrics_json_gives_every_headline_figure(demo_url, watchwall_env, capsys):
    watchwall_env(demo_url)
    assert main(["metrics", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= {
        "centres",
        "cases_total",
        "pretrial_evaluations",
        "bases",
        "staff",
        "psych_assessed",
        "reoffending_risk",
        "subjects_under_supervision",
        "cases_this_month",
        "archives_digitised",
        "checkin_compliance",
    }
    assert figures["centres"] == 8  # the shipped Tianshui site: 1 city + 7 county centres
    assert (figures["cases_total"], figures["pretrial_evaluations"]) == (555, 135)
    assert figures["bases"] == {"education": 16, "public_welfare": 37, "employment": 15}
    assert figures["staff"] == {"full_time": 29, "public_welfare_posts": 18, "certified_officers": 278}
    assert (figures["psych_assessed"], figures["reoffending_risk"]) == (49, 2)
    assert set(figures["checkin_compliance"]) == {
        "today",
        "today_done",
        "today_due",
        "today_pending",
        "last_30_days",
        "by_county",
    }
    assert len(figures["checkin_compliance"]["by_county"]) == 7


def test_metrics_text_output(demo_url, watchwall_env, capsys):
    watchwall_env(demo_url)
    assert main(["metrics"]) == 0
    out = capsys.readouterr().out
    assert "cases_total: 555" in out and "certified_officers: 278" in out and "%" in out


def test_metrics_without_schema_says_to_upgrade(tmp_path, watchwall_env, capsys):
    watchwall_env(f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["metrics"]) == 2
    err = capsys.readouterr().err.strip()
    assert "run `watchwall db upgrade`" in err and len(err.splitlines()) == 1


def test_demo_data_refuses_twice_then_replaces(subjects_url, watchwall_env, capsys):
    watchwall_env(subjects_url)
    assert main(["demo-data"]) == 2
    assert "--replace" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://postgres@127.0.0.1:1/x", "cannot connect to database"),
        ("this is not a url", "is not a URL"),
        ("sqlite:////nonexistent-folder-ww/cases.db", "does not exist"),
    ],
)
@pytest.mark.parametrize("command", [["metrics"], ["demo-data"], ["import", "cases", "x.csv"]])
def test_unusable_database_url_gives_one_clear_line(url, expected, command, watchwall_env, capsys):
    watchwall_env(url)
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err
    assert len(err.splitlines()) == 1
