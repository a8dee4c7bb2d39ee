"""What the code cites lives in the repository, and every section it cites exists.

Comments and docstrings explain a rule by pointing at a page of ``docs/``
("docs/formats.md §4.1"). These tests keep those pointers honest: no file
cites notes kept outside the repository (the project's reference notes beside
the checkout), and every ``docs/<page>.md §N`` names a page that exists and a
numbered heading that page has. The saved listing pages beside the checkout
(``../shared/seeds``) are test input, not documentation, so naming them is fine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SCANNED = ("digest", "tests", "bench", "templates", "deploy", "docs", "README.md", "CHANGELOG.md")
THIS_FILE = Path(__file__).resolve()  # its examples are broken on purpose
SKIPPED_PARTS = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}

# The reference notes: their names in any spelling but the repo's own docs/ pages
# (docs/formats.md and docs/standards.md are ours), and any path into the notes' folder
# other than the seeds.
_OUTSIDE_NOTE = re.compile(
    r"(?:\.\./shared/)?(?<!docs/)\b(?:formats|USERS|STANDARDS|STYLE|DESIGN)\.md"
)
_OUTSIDE_FOLDER = re.compile(r"\.\./shared(?!/seeds)")

_NUMBER = r"\d+(?:\.\d+)*"
# "docs/formats.md §4.1", "docs/formats.md §4, §5 and §6"; the sections follow the page name.
_CITATION = re.compile(
    rf"docs/(?P<page>[\w-]+\.md)(?P<sections>(?:\s*(?:,|and|or)?\s*§\s*{_NUMBER})*)"
)
_SECTION = re.compile(rf"§\s*({_NUMBER})")
_HEADING = re.compile(rf"^#{{1,6}}\s+({_NUMBER})\.?\s", re.MULTILINE)
# A § right after an RFC number is the RFC's section, not ours.
_RFC_SECTION = re.compile(rf"RFC\s*\d+,?\s*§\s*{_NUMBER}")


def scanned_files() -> Iterator[Path]:
    for name in SCANNED:
        root = REPO / name
        paths = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in paths:
            if path.is_file() and not SKIPPED_PARTS & set(path.parts) and path != THIS_FILE:
                yield path


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None  # binary fixtures cite nothing


def where(path: Path, text: str, offset: int) -> str:
    return f"{path.relative_to(REPO)}:{text.count(chr(10), 0, offset) + 1}"


def sections_of(page: Path) -> set[str]:
    return set(_HEADING.findall(page.read_text(encoding="utf-8")))


def outside_references(path: Path, text: str) -> list[str]:
    found = [*_OUTSIDE_NOTE.finditer(text), *_OUTSIDE_FOLDER.finditer(text)]
    return [f"{where(path, text, match.start())}: {match.group(0)!r}" for match in found]


def broken_citations(path: Path, text: str) -> list[str]:
    problems = []
    for match in _CITATION.finditer(text):
        page = DOCS / match["page"]
        numbers = _SECTION.findall(match["sections"])
        if not numbers:
            continue  # a bare link to a page; sections are what rot
        if not page.is_file():
            problems.append(f"{where(path, text, match.start())}: no docs/{match['page']}")
            continue
        missing = [number for number in numbers if number not in sections_of(page)]
        problems += [
            f"{where(path, text, match.start())}: docs/{match['page']} has no section {n}"
            for n in missing
        ]
    return problems


def broken_self_references(page: Path, text: str) -> list[str]:
    """A bare "§N" inside a docs page means that page's own section N."""
    spans = [(m.start("sections"), m.end("sections")) for m in _CITATION.finditer(text)]
    spans += [(m.start(), m.end()) for m in _RFC_SECTION.finditer(text)]
    sections = set(_HEADING.findall(text))
    problems = []
    for match in _SECTION.finditer(text):
        inside = any(start <= match.start() < end for start, end in spans)
        if not inside and match.group(1) not in sections:
            problems.append(f"{where(page, text, match.start())}: no section {match.group(1)}")
    return problems


def test_nothing_cites_the_notes_kept_outside_the_repository() -> None:
    problems = [
        problem
        for path in scanned_files()
        if (text := text_of(path)) is not None
        for problem in outside_references(path, text)
    ]
    assert not problems, "cite a page of docs/ instead:\n" + "\n".join(problems)


def test_every_cited_section_of_docs_exists() -> None:
    problems = [
        problem
        for path in scanned_files()
        if (text := text_of(path)) is not None
        for problem in broken_citations(path, text)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda page: page.name)
def test_a_docs_page_refers_only_to_its_own_sections_that_exist(page: Path) -> None:
    problems = broken_self_references(page, page.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


# The examples are spelled in pieces, so a grep for the notes' names finds nothing here either.
NOTES = "../" + "shared"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("see " + "formats" + ".md §1.1", "'" + "formats" + ".md'"),
        ("(" + "USERS" + ".md item 3)", "'" + "USERS" + ".md'"),
        (f"read {NOTES}/" + "STYLE" + ".md first", f"'{NOTES}/" + "STYLE" + ".md'"),
        (f"notes in {NOTES}/", f"'{NOTES}'"),
    ],
)
def test_the_outside_check_catches_each_spelling(text: str, problem: str) -> None:
    path = REPO / "docs" / "example.md"  # only its name is used, for the message
    assert any(problem in found for found in outside_references(path, text))


@pytest.mark.parametrize(
    "text",
    [
        "docs/formats.md §4.1, the listing markup",
        f"the seeds in {NOTES}/seeds",
        "see docs/standards.md and RFC 8058 §3.1",
        "STYLE_md is not a file name",
    ],
)
def test_the_outside_check_lets_the_repos_own_pages_and_the_seeds_pass(text: str) -> None:
    assert outside_references(REPO / "docs" / "example.md", text) == []


def test_the_section_check_catches_a_missing_page_and_a_missing_section() -> None:
    path = REPO / "digest" / "example.py"
    text = "docs/formats.md §1.1 and §99; docs/no-such-page.md §1"
    assert broken_citations(path, text) == [
        "digest/example.py:1: docs/formats.md has no section 99",
        "digest/example.py:1: no docs/no-such-page.md",
    ]


def test_a_bare_section_in_a_page_must_be_one_of_its_own() -> None:
    text = "# Page\n\n## 1. One\n\nSee §1 and §2; RFC 4287 §4.2.6; docs/formats.md §8.\n"
    assert broken_self_references(REPO / "docs" / "example.md", text) == [
        "docs/example.md:5: no section 2"
    ]
