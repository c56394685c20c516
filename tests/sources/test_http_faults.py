"""The four API connectors under the sandbox's fault switches, through the pipeline steps: a 429's
Retry-After is waited out, 500s are retried then fail clearly, a page cut short fails the whole
batch and nothing of it loads, a renamed field fails the batch naming source, stream and field,
a malformed value is quarantined while the rest loads, and no credential reaches a log, an error
or landing."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from dataclasses import dataclass

import pytest

from pulse import landing
from pulse.pipeline import steps
from pulse.sandbox.servers.aircall import AircallServer
from pulse.sandbox.servers.easypost import EasyPostServer
from pulse.sandbox.servers.hubspot import HubSpotServer
from pulse.sandbox.servers.zendesk import ZendeskServer
from pulse.settings import get_settings
from pulse.sources.aircall import AircallSource
from pulse.sources.easypost import EasyPostSource
from pulse.sources.http import SourceHttpError
from pulse.sources.hubspot import HubSpotSource
from pulse.sources.zendesk import ZendeskSource
from sandbox.fixtures.sandbox_runs import raw, small_world, use_temporary_pipeline


@dataclass(frozen=True)
class Case:
    server: type
    source: type
    stream: str
    page_sizes: dict[str, int]
    rename: tuple[str, str]
    rename_path: tuple[str, ...]  # where the renamed field lives in a record
    malformed: str  # the field the malformed-record switch spoils in the first record

    @property
    def id(self) -> str:
        return self.source.name


CASES = [
    Case(HubSpotServer, HubSpotSource, "contacts", {"list_page_size": 25}, ("lifecyclestage", "lifecycle_stage"),
         ("properties",), "createdate"),
    Case(ZendeskServer, ZendeskSource, "tickets", {"page_size": 20}, ("priority", "priority_level"), (), "created_at"),
    Case(AircallServer, AircallSource, "calls", {"page_size": 50}, ("missed_call_reason", "missed_reason"), (),
         "started_at"),
    Case(EasyPostServer, EasyPostSource, "trackers", {"page_size": 20}, ("tracking_code", "tracking_number"), (),
         "created_at"),
]


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request):
    return request.param


@pytest.fixture
def warehouse(monkeypatch, tmp_path):
    return use_temporary_pipeline(monkeypatch, tmp_path)


@pytest.fixture
def server(case):
    with case.server(small_world()) as running:
        yield running


def connector(case, server, connection=None):
    source = case.source(connection=connection or server.source_connection())
    for name, value in case.page_sizes.items():
        setattr(source, name, value)
    return source


def extract(case, server, warehouse, connection=None):
    return steps.extract(case.source.name, case.stream, source=connector(case, server, connection),
                         warehouse=warehouse, end=server.clock)


def last_batch(case):
    return list(landing.list_batches(case.source.name, case.stream))[-1]


def nothing_loaded(case, warehouse):
    source = case.source(connection=None)
    for stream in source.fed_by(source.stream(case.stream)):
        assert raw(warehouse, stream.raw_table, "1").empty, stream.key
    with warehouse.connect() as connection:
        assert steps.read_state(connection, source.stream(case.stream)) == {}


def test_a_429_is_retried_after_its_retry_after(case, server, warehouse):
    server.faults.rate_limited, server.faults.retry_after_seconds = 1, 1
    outcome = extract(case, server, warehouse)
    assert outcome.record_count > 0 and last_batch(case).manifest.complete
    limited, retried = (dt.datetime.fromisoformat(r["at"]) for r in server.requests[:2])
    assert retried - limited >= dt.timedelta(seconds=1)  # the configured back-off is 0.01 s


def test_500s_are_retried_then_fail_clearly(case, server, warehouse):
    server.faults.server_errors = 2  # fewer than the 3 attempts allowed
    complete = extract(case, server, warehouse)
    server.requests.clear()
    server.faults.server_errors = 10
    with pytest.raises(SourceHttpError) as failure:
        extract(case, server, warehouse)
    assert f"{case.source.name}.{case.stream}: GET " in str(failure.value)
    assert "failed with HTTP 500 after 3 attempt(s)" in str(failure.value)
    assert len(server.requests) == 3
    batch = last_batch(case)
    assert batch.batch_id != complete.batch_id and not batch.manifest.complete and not batch.manifest.files


def test_a_page_cut_short_fails_the_whole_batch_and_nothing_of_it_loads(case, server, warehouse):
    server.faults.truncate_request = 2
    with pytest.raises(SourceHttpError, match="page 2 is not valid JSON"):
        extract(case, server, warehouse)
    batch = last_batch(case)
    assert not batch.manifest.complete and len(batch.manifest.files) == 2  # page 1 whole, page 2 as cut
    with pytest.raises(steps.BatchRejected, match="incomplete"):
        steps.validate(batch.batch_id, warehouse=warehouse)
    with pytest.raises(steps.BatchRejected):
        steps.load(batch.batch_id, warehouse=warehouse)
    nothing_loaded(case, warehouse)


def test_a_renamed_field_fails_the_batch_naming_source_stream_and_field(case, server, warehouse):
    old, new = case.rename
    server.faults.rename_field = case.rename
    outcome = extract(case, server, warehouse)
    steps.validate(outcome.batch_id, warehouse=warehouse)
    with pytest.raises(steps.BatchRejected) as rejected:
        steps.load(outcome.batch_id, warehouse=warehouse)
    message = str(rejected.value)
    assert f"{case.source.name}.{case.stream}, field '{old}'" in message and new in message
    nothing_loaded(case, warehouse)
    assert landing.open_batch(outcome.batch_id).manifest.complete  # the batch stays in landing


def test_a_malformed_value_is_quarantined_and_the_rest_loads(case, server, warehouse):
    server.faults.malformed_record = True
    outcome = extract(case, server, warehouse)
    steps.validate(outcome.batch_id, warehouse=warehouse)
    loaded = steps.load(outcome.batch_id, warehouse=warehouse)
    assert loaded.rows_quarantined[case.stream] == 1
    assert loaded.rows_loaded[case.stream] == outcome.record_count - 1
    with warehouse.connect() as connection:
        rows = connection.fetchall("select stream, row_number, column_name, rule from quarantine.rows")
    assert rows == [(case.stream, 0, case.malformed, "type:timestamp")]


def test_no_credential_reaches_a_log_an_error_or_landing(case, server, warehouse, caplog):
    caplog.set_level(logging.DEBUG)
    connection = server.source_connection()
    secret = connection.password.get_secret_value()
    server.faults.rate_limited, server.faults.retry_after_seconds, server.faults.server_errors = 1, 0, 1
    extract(case, server, warehouse)
    wrong = type(connection)(**{**connection.__dict__, "password": type(connection.password)("wrong-" + secret)})
    with pytest.raises(SourceHttpError, match="HTTP 401") as refused:
        extract(case, server, warehouse, connection=wrong)
    user = connection.login or ""
    forms = {secret, "wrong-" + secret, base64.b64encode(f"{user}:{secret}".encode()).decode(),
             base64.b64encode(f"{user}/token:{secret}".encode()).decode()}
    files = [p for p in get_settings().data_dir.rglob("*") if p.is_file() and p.suffix in {".json", ""}]
    texts = {"log": caplog.text, "error": str(refused.value), **{str(p): p.read_text(errors="replace") for p in files}}
    assert "HTTP 429" in caplog.text
    leaks = [(where, form[:6]) for where, text in texts.items() for form in forms if form in text]
    assert not leaks

