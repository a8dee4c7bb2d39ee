"""An operator's template folder replaces shipped templates by path and can extend them."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import load_settings
from digest.render.check import check_templates
from digest.render.mail import MailMeta, render_digest
from digest.render.templates import shipped_folder, template_names
from tests.factories import FIRST_SEEN, make_digest

META = MailMeta(
    site_title="Lab papers",
    site_url="https://papers.example.org/",
    feed_url="https://papers.example.org/feed.atom",
    archive_url="https://papers.example.org/digests/",
    from_address="Lab papers <papers@example.org>",
    list_id="daily.papers.example.org",
    message_domain="example.org",
)


def overrides(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "my-templates"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_shipped_templates_live_at_the_top_of_the_repository() -> None:
    names = template_names(shipped_folder())
    assert "email/digest.html.j2" in names and "web/base.html.j2" in names
    assert shipped_folder().resolve() == (Path(__file__).parents[2] / "templates").resolve()


def test_a_folder_with_only_the_text_part_overrides_the_text_part(tmp_path: Path) -> None:
    folder = overrides(
        tmp_path, {"email/digest.txt.j2": "Our lab's {{ papers | length }} papers\n"}
    )
    rendered = render_digest(
        make_digest(3),
        META.__class__(**{**META.__dict__, "templates_dir": folder}),
        day=FIRST_SEEN.date(),
    )
    assert rendered.text == "Our lab's 3 papers\n"
    assert "Sparse Experts at Scale, Part 1" in rendered.html, "the HTML part stays the shipped one"


def test_an_override_can_extend_the_shipped_template_and_replace_one_block(tmp_path: Path) -> None:
    folder = overrides(
        tmp_path,
        {
            "email/digest.txt.j2": '{% extends "default:email/digest.txt.j2" %}'
            "{% block footer %}\n-- \nQuestions? Ask Ada in room 4.\n{% endblock %}"
        },
    )
    shipped = render_digest(make_digest(2), META, day=FIRST_SEEN.date()).text
    mine = render_digest(
        make_digest(2),
        META.__class__(**{**META.__dict__, "templates_dir": folder}),
        day=FIRST_SEEN.date(),
    ).text
    assert mine.endswith("Questions? Ask Ada in room 4.\n")
    assert "Unsubscribe" not in mine and "Unsubscribe" in shipped
    assert mine.split("\n-- \n")[0].rstrip() == shipped.split("\n-- \n")[0].rstrip(), (
        "the rest is shipped"
    )


@pytest.mark.parametrize(
    ("name", "text", "line", "says"),
    [
        ("email/digest.txt.j2", "Hello\n{{ undefined_name }}\n", 2, "'undefined_name' is undefined"),
        ("email/confirm.html.j2", "<p>{% if %}</p>", 1, "Expected an expression"),
        ("web/home.html.j2", '{% extends "web/base.html.j2" %}\n{% block main %}\n{{ no_such_thing }}{% endblock %}', 3, "'no_such_thing' is not in this page's context"),
    ],
)  # fmt: skip
def test_check_names_the_file_and_line_of_a_broken_override(
    tmp_path: Path, name: str, text: str, line: int, says: str
) -> None:
    folder = overrides(tmp_path, {name: text})
    settings = load_settings(None, environ={"DIGEST_SITE_TEMPLATES_DIR": str(folder)})
    problems = check_templates(settings)
    assert len(problems) == 1
    assert problems[0].where == f"{folder / name}:{line}"
    assert says in problems[0].message


def test_the_shipped_templates_pass_the_check() -> None:
    assert check_templates(load_settings(None, environ={})) == []


def test_a_templates_dir_that_does_not_exist_is_a_problem_not_ignored(tmp_path: Path) -> None:
    settings = load_settings(
        None, environ={"DIGEST_SITE_TEMPLATES_DIR": str(tmp_path / "tmplates")}
    )
    (problem,) = check_templates(settings)
    assert problem.where == str(tmp_path / "tmplates") and "not a folder" in problem.message
