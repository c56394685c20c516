import datetime as dt

import pytest
from pydantic import ValidationError

from pulse.settings import Settings


def test_defaults_point_at_a_duckdb_file_under_data(tmp_path):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert settings.warehouse_url_resolved == f"duckdb:///{tmp_path}/warehouse/pulse.duckdb"
    assert settings.business_timezone == "Europe/Amsterdam"
    assert settings.office_weekdays == frozenset({1, 2, 3, 4, 5})
    assert (settings.opening_time, settings.closing_time) == (dt.time(8, 30), dt.time(17, 30))


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("PULSE_WAREHOUSE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("PULSE_OFFICE_DAYS", "mon,tue")
    monkeypatch.setenv("PULSE_DATA_TEAM_EMAILS", '["a@x.nl", "b@x.nl"]')
    settings = Settings(_env_file=None)
    assert settings.warehouse_url_resolved == "postgresql+psycopg://u@h/db"
    assert settings.office_weekdays == frozenset({1, 2})
    assert settings.data_team_emails == ["a@x.nl", "b@x.nl"]


@pytest.mark.parametrize(
    ("name", "value"), [("office_hours", "18:00-09:00"), ("office_days", "mon,funday")]
)
def test_bad_calendar_settings_are_refused(name, value):
    with pytest.raises(ValidationError, match=name):
        Settings(_env_file=None, **{name: value})
