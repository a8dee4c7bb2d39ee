"""Settings come from defaults, digest.toml, then DIGEST_* variables; mistakes name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import DEFAULT_SOURCE, SETTINGS, load_settings, sample_config
from digest.config.settings import settings_table
from digest.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(text)
    return path


def test_defaults_need_no_file() -> None:
    settings = load_settings(None, environ={})
    assert settings.feed.window_days == 14
    assert settings.feed.max_entries == 500
    assert [s.url for s in settings.sources] == [DEFAULT_SOURCE]
    assert settings.data_dir == Path("digest-data")


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[feed]\nwindow_days = 30\n")
    settings = load_settings(
        path, environ={"DIGEST_FEED_WINDOW_DAYS": "7", "DIGEST_DATA_DIR": "/srv/d"}
    )
    assert settings.feed.window_days == 7
    assert settings.data_dir == Path("/srv/d")


def test_sources_keep_their_order_and_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[sources]]\nurl = "https://rss.arxiv.org/rss/cs.LG"\nkind = "arxiv-rss"\nname = "cs.LG"\n\n'
        '[[sources]]\nurl = "examples/"\ntimeout = 5\nheaders = { Authorization = "Bearer x" }\n',
    )
    first, second = load_settings(path, environ={}).sources
    assert (first.url, first.kind, first.label) == (
        "https://rss.arxiv.org/rss/cs.LG",
        "arxiv-rss",
        "cs.LG",
    )
    assert (second.timeout, dict(second.headers)) == (5.0, {"Authorization": "Bearer x"})


def test_a_bad_value_names_the_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[site]\ntitle = 'x'\n\n[feed]\nwindow_days = 0\n")
    with pytest.raises(
        ConfigError, match=rf"{path}:5: feed.window_days = 0: must be a whole number"
    ):
        load_settings(path, environ={})


def test_an_unknown_key_is_an_error_not_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "[feed]\nwindow_dayz = 3\n")
    with pytest.raises(ConfigError, match=rf"{path}:2: unknown setting 'feed.window_dayz'"):
        load_settings(path, environ={})


def test_a_bad_source_kind_names_its_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nurl = "x"\n\n[[sources]]\nurl = "y"\nkind = "rss"\n')
    with pytest.raises(ConfigError, match=rf"{path}:4: kind = 'rss': must be one of"):
        load_settings(path, environ={})


def test_broken_toml_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[feed]\nwindow_days = \n")
    with pytest.raises(ConfigError, match=r"not valid TOML at line 2: window_days has no value"):
        load_settings(path, environ={})


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="environment DIGEST_MAIL_MAX_PAPERS"):
        load_settings(None, environ={"DIGEST_MAIL_MAX_PAPERS": "lots"})


def test_header_values_cannot_carry_newlines() -> None:
    with pytest.raises(ConfigError, match="must be one line"):
        load_settings(None, environ={"DIGEST_SITE_TITLE": "x\r\nBcc: victim@example.org"})


def test_the_sample_config_lists_every_setting_and_loads(tmp_path: Path) -> None:
    text = sample_config()
    for setting in SETTINGS:
        assert f"{setting.key} = " in text and setting.env_name in text
    load_settings(write(tmp_path, text), environ={})


def test_the_deploy_sample_is_complete() -> None:
    deployed = (Path(__file__).parents[2] / "deploy" / "digest.toml").read_text()
    for setting in SETTINGS:
        assert setting.env_name in deployed, f"deploy/digest.toml lacks {setting.env_name}"


def test_schedule_times_from_the_environment_accept_a_list_or_cron_lines() -> None:
    listed = load_settings(None, environ={"DIGEST_SCHEDULE_TIMES": "07:00,19:30"})
    assert listed.schedule.times == ("07:00", "19:30")
    cron = load_settings(
        None, environ={"DIGEST_SCHEDULE_TIMES": "0 20 * * sun,mon-thu; 30 7 * * *"}
    )
    assert cron.schedule.times == ("0 20 * * sun,mon-thu", "30 7 * * *")
    with pytest.raises(ConfigError, match=r"DIGEST_SCHEDULE_TIMEZONE.*unknown time zone"):
        load_settings(None, environ={"DIGEST_SCHEDULE_TIMEZONE": "Mars/Olympus"})


def test_readmes_settings_table_is_the_declarations() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert settings_table() in readme, "regenerate README's table: digest.config.settings_table()"


def test_settings_are_typed_objects_per_section() -> None:
    settings = load_settings(None, environ={"DIGEST_FEED_WINDOW_DAYS": "7"})
    assert settings.feed.window_days == 7
    assert settings.schedule.alert_after == 2
    with pytest.raises(AttributeError):
        settings.feed.window_days = 3  # type: ignore[misc]
