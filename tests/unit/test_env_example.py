"""`.env.example` documents every setting."""

from pathlib import Path

from pulse.settings import REPO_ROOT, Settings


def test_every_setting_is_documented_in_env_example():
    documented = Path(REPO_ROOT / ".env.example").read_text()
    fields = [name for name in Settings.model_fields if name not in {"home"}]
    missing = [name for name in fields if f"PULSE_{name.upper()}=" not in documented]
    assert not missing, f".env.example lacks {['PULSE_' + m.upper() for m in missing]}"
