from __future__ import annotations

from pathlib import Path

import pytest
from helpers import EXAMPLE, MINIMAL

from digest.config import load_config
from digest.errors import ConfigError, UnknownSegmentError
from digest.settings import Secret, env_secret


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_example_config_loads_with_defaults_and_overrides() -> None:
    config = load_config(EXAMPLE / "digest.toml")
    assert set(config.segments) == {"politics-daily", "tech-weekly", "everything-weekly"}
    politics = config.segment("politics-daily")
    assert politics.max_items == 8  # from [defaults]
    assert config.segment("everything-weekly").max_items == 12  # per-segment override
    assert politics.lists == ("politics-daily",)
    assert config.database_url == f"sqlite:///{EXAMPLE.resolve() / 'digest.db'}"
    assert config.outbox_dir == (EXAMPLE / "outbox").resolve()


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nothing\.toml: config file not found"):
        load_config(tmp_path / "nothing.toml")


def test_malformed_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "\nmax_items = = 3\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and "invalid TOML" in message and "line" in message
    assert "\n" not in message


def test_unknown_setting_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "max_itmes = 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting 'max_itmes'; did you mean 'max_items'"):
        load_config(path)


def test_wrong_type_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + 'max_items = "many"\n')
    with pytest.raises(ConfigError, match=r"\[segments.daily\] max_items: expected an integer"):
        load_config(path)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('[digest]\ntimezone = "Mars/Olympus"\n', "unknown time zone"),
        ('[digest]\nbackend = "pigeon"\n', "is not one of outbox, smtp, sendgrid"),
        ('[segments.weekly]\nschedule = "every monday"\n', "needs five fields"),
        ('[segments.weekly]\nschedule = "0 25 * * *"\n', "schedule"),
        ("[sources.x]\n", "give exactly one of url or path"),
    ],
)
def test_invalid_values_are_refused_with_a_reason(
    tmp_path: Path, extra: str, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(write(tmp_path, MINIMAL + extra))


def test_sender_identity_is_required(tmp_path: Path) -> None:
    body = MINIMAL.replace('postal_address = "1 Main Street, Springfield"\n', "")
    with pytest.raises(ConfigError, match=r"\[sender\] postal_address: required"):
        load_config(write(tmp_path, body))


def test_unknown_segment_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(UnknownSegmentError, match=r"unknown segment 'weekly': choose one of daily"):
        config.segment("weekly")


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.very-secret")
    secret = env_secret("SENDGRID_API_KEY")
    assert secret.reveal() == "SG.very-secret"
    for shown in (str(secret), repr(secret), f"{secret}", repr([secret])):
        assert "very-secret" not in shown
    assert not Secret("")
