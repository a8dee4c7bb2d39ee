"""`digest check`: the configuration and every template, before a run trusts them."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_end_to_end import EXAMPLES, digest_cli


def broken_override(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    (folder / "email").mkdir(parents=True)
    (folder / "email" / "digest.txt.j2").write_text("Today:\n{{ undefined_name }}\n")
    return folder


def test_check_passes_on_the_defaults(tmp_path: Path) -> None:
    done = digest_cli(tmp_path, "check")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: configuration")


def test_check_exits_2_naming_the_template_and_line(tmp_path: Path) -> None:
    folder = broken_override(tmp_path)
    done = digest_cli(tmp_path, "check", env={"DIGEST_SITE_TEMPLATES_DIR": str(folder)})
    assert done.returncode == 2
    assert f"{folder / 'email' / 'digest.txt.j2'}:2" in done.stderr
    assert "'undefined_name' is undefined" in done.stderr


def test_check_names_a_bad_setting_with_its_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "digest.toml"
    tmp_path.mkdir(exist_ok=True)
    config.write_text('[feed]\nwindow_days = "soon"\n')
    done = digest_cli(tmp_path, "--config", str(config), "check")
    assert done.returncode == 2
    assert f"{config}:2" in done.stderr and "window_days" in done.stderr


def test_run_refuses_to_start_with_a_broken_override_and_touches_nothing(tmp_path: Path) -> None:
    folder = broken_override(tmp_path)
    env = {"DIGEST_SITE_TEMPLATES_DIR": str(folder)}
    done = digest_cli(tmp_path, "run", "--source", str(EXAMPLES), env=env)
    assert done.returncode == 2
    assert "email/digest.txt.j2:2" in done.stderr
    assert not (tmp_path / "data" / "digest.db").exists(), "no history was started"


def test_a_working_override_is_what_readers_get(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    (folder / "email").mkdir(parents=True)
    (folder / "email" / "digest.txt.j2").write_text(
        '{% extends "default:email/digest.txt.j2" %}{% block header %}OUR LAB\n{% endblock %}'
    )
    done = digest_cli(
        tmp_path, "run", "--source", str(EXAMPLES), env={"DIGEST_SITE_TEMPLATES_DIR": str(folder)}
    )
    assert done.returncode == 0, done.stderr
    (message,) = (tmp_path / "data" / "outbox" / "new").iterdir()
    assert b"OUR LAB" in message.read_bytes()
