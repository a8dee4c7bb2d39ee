"""The operator manages readers from the command line: add, list, remove, import, export, preview."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from digest import history
from digest.cli import main
from digest.model import Paper
from tests.web_server import MONDAY


def cli(tmp_path: Path, *args: str, input: str | None = None) -> tuple[int, str]:
    runner = CliRunner()
    result = runner.invoke(
        main, ["--data-dir", str(tmp_path / "data"), *args], input=input, env={"DIGEST_CONFIG": ""}
    )
    return result.exit_code, result.output


def test_add_validates_and_normalises_the_address(tmp_path: Path) -> None:
    code, out = cli(tmp_path, "subscribers", "add", "Ada@Example.ORG", "--name", "Ada")
    assert code == 0 and "Added Ada@example.org" in out
    code, out = cli(tmp_path, "subscribers", "add", "not-an-address")
    assert code == 1 and "not a valid e-mail address" in out


def test_adding_again_updates_instead_of_duplicating(tmp_path: Path) -> None:
    cli(tmp_path, "subscribers", "add", "ada@example.org")
    code, out = cli(
        tmp_path,
        "subscribers",
        "add",
        "ada@example.org",
        "--frequency",
        "weekly",
        "--weekday",
        "fri",
    )
    assert code == 0 and "Updated" in out
    _, listing = cli(tmp_path, "subscribers", "list")
    assert listing.count("ada@example.org") == 1 and "weekly" in listing


def test_remove_unsubscribes_and_list_all_still_shows_them(tmp_path: Path) -> None:
    cli(tmp_path, "subscribers", "add", "ada@example.org")
    code, out = cli(tmp_path, "subscribers", "remove", "ada@example.org")
    assert code == 0 and "Unsubscribed ada@example.org" in out
    assert "ada@example.org" not in cli(tmp_path, "subscribers", "list")[1]
    assert "unsubscribed" in cli(tmp_path, "subscribers", "list", "--all")[1]


def test_import_names_the_bad_line_and_adds_nobody(tmp_path: Path) -> None:
    csv_file = tmp_path / "readers.csv"
    csv_file.write_text("email,name,frequency\nada@example.org,Ada,daily\nbroken,Bob,daily\n")
    code, out = cli(tmp_path, "subscribers", "import", str(csv_file))
    assert code == 1 and f"{csv_file}:3" in out and "broken" in out
    assert "ada@example.org" not in cli(tmp_path, "subscribers", "list")[1]


def test_export_round_trips_through_import(tmp_path: Path) -> None:
    csv_file = tmp_path / "readers.csv"
    csv_file.write_text(
        "email,name,frequency,weekday\nada@example.org,Ada,weekly,thu\nbob@example.org,,daily,\n"
    )
    assert cli(tmp_path, "subscribers", "import", str(csv_file))[0] == 0
    _, exported = cli(tmp_path, "subscribers", "export")
    assert exported.splitlines()[0] == "email,name,topics,frequency,weekday,status"
    assert "ada@example.org,Ada,,weekly,thu,active" in exported
    again = tmp_path / "again.csv"
    again.write_text(exported)
    assert cli(tmp_path / "other", "subscribers", "import", str(again))[0] == 0


def test_preview_shows_the_next_mail_and_changes_nothing(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    assert (
        cli(tmp_path, "run", "--mark-seen", "--source", str(examples / "hf-daily-2025-03-12.json"))[
            0
        ]
        == 0
    )
    assert "Nothing new" in cli(tmp_path, "preview")[1]
    html = tmp_path / "next.html"
    database = tmp_path / "data" / "digest.db"
    # New papers arrive but are not yet announced: preview renders them read-only.

    db = history.open_history(database)
    history.record_sightings(
        db, [Paper("A Fresh Result", arxiv_id="2503.99999", abstract="We show it.")],
        source="t", run_id=None, now=MONDAY, tag_authority="localhost",
    )  # fmt: skip
    db.close()
    before = database.read_bytes()
    code, out = cli(tmp_path, "preview", "--html", str(html))
    assert code == 0 and "A Fresh Result" in out
    assert "A Fresh Result" in html.read_text()
    assert database.read_bytes() == before
