"""The suite files in `expectations/` match the streams: one per stream, none without a stream,
each what its contract and rules generate, each loadable by GX. Budget: GX import (~15 s)."""

from __future__ import annotations

import json

import pytest

from pulse.sources import all_streams
from pulse.sources.streams import Field, Stream
from pulse.validation import suites
from pulse.validation.suites import BATCH, ROW, StreamRules, between


def test_every_stream_has_its_suite_and_every_suite_a_stream():
    streams = {stream.key for stream in all_streams()}
    stored = set(suites.stored_suite_names())
    assert streams - stored == set(), "streams without a suite: run `pulse validation suites --write`"
    assert stored - streams == set(), "suite files naming no stream"


def test_suite_files_are_what_the_contracts_and_rules_generate():
    assert suites.out_of_date(all_streams()) == []


def test_suites_load_in_gx_and_tag_every_expectation():
    from great_expectations.core import ExpectationSuite

    for stream in all_streams():
        stored = json.loads(suites.suite_path(stream.key).read_text())
        loaded = ExpectationSuite(**stored)
        assert loaded.name == stream.key
        assert len(loaded.expectations) == len(stored["expectations"])  # GX refused none of them
        for expectation in stored["expectations"]:
            assert expectation["meta"]["level"] in {ROW, BATCH} and expectation["meta"]["rule"]
        columns = next(e for e in stored["expectations"] if e["type"] == "expect_table_columns_to_match_set")
        assert columns["kwargs"]["column_set"] == stream.field_names
        key_rules = [e for e in stored["expectations"] if e["meta"]["rule"] == "primary_key_not_null"]
        assert [e["kwargs"]["column"] for e in key_rules] == list(stream.primary_key)


def test_a_rule_on_an_unknown_column_is_refused():
    stream = Stream("x", "y", ("id",), (Field("id", "int"), Field("amount", "money")))
    with pytest.raises(ValueError, match="unknown column"):
        suites.build_suite(stream, StreamRules(rules=(between("amont", 0),)))
    with pytest.raises(ValueError, match="not a field"):
        suites.build_suite(stream, StreamRules(future_timestamps=("due",)))


def test_the_suites_command_reports_a_stale_file(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pulse.cli import main
    from pulse.settings import get_settings

    runner = CliRunner()
    assert runner.invoke(main, ["validation", "suites"]).exit_code == 0
    # a copy of the repo's suites with one stale file: the check names it and fails
    home = tmp_path / "home"
    (home / "expectations").mkdir(parents=True)
    for path in suites.suites_dir().glob("*.json"):
        (home / "expectations" / path.name).write_text(path.read_text())
    stale = home / "expectations" / "hubspot.deals.json"
    stale.write_text(stale.read_text().replace('"closedwon"', '"closedwon_typo"'))
    monkeypatch.setenv("PULSE_HOME", str(home))
    get_settings.cache_clear()
    try:
        result = runner.invoke(main, ["validation", "suites"])
        assert result.exit_code == 1 and "hubspot.deals: hubspot.deals.json differs" in result.output
        assert runner.invoke(main, ["validation", "suites", "--write"]).exit_code == 0
        assert '"closedwon_typo"' not in stale.read_text()
    finally:
        get_settings.cache_clear()
