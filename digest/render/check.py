"""``digest check`` for templates: every template, shipped or the operator's, must render.

Mail templates are rendered through the real builders (newsletter, confirmation,
alert) with a sample digest, under ``StrictUndefined``, so a misspelled variable
fails here, not in tomorrow's mail. Page templates get their context from the
web handlers, so they are checked against it statically: every name a page
template uses must be one the shipped version of that page uses too (or one
of the globals every page gets). Each problem names the template file and line.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from jinja2 import Environment, TemplateError, TemplateSyntaxError, meta, nodes

from ..config import Settings
from ..locations import templates_dir, urls
from ..model import Digest, SourceHealth, StoredPaper
from .alert import alert_message
from .confirmation import Confirmation, Reminder, build_confirmation, build_reminder
from .mail import MailMeta, Recipient, build_message, render_digest
from .pages import web_environment
from .templates import shipped_folder, template_names

# What every page gets besides its own context (digest.web.context.Site.page).
PAGE_GLOBALS = frozenset({"site_title", "base_url", "css_url", "csrf_field", "csrf_token"})
SAMPLE_DAY = date(2026, 11, 30)
SAMPLE_TIME = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


@dataclass(frozen=True)
class TemplateProblem:
    """One template that would fail: where (``file:line``) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def check_templates(settings: Settings) -> list[TemplateProblem]:
    """Every problem with the templates ``settings`` would render (empty: all is well)."""
    folder = templates_dir(settings)
    if folder is not None and not folder.is_dir():
        return [TemplateProblem(str(folder), "[site] templates_dir is not a folder (a typo?)")]
    problems = list(_mail_problems(settings, folder))
    problems += _page_problems(folder)
    return problems


def _mail_problems(settings: Settings, folder: Path | None) -> Iterator[TemplateProblem]:
    builders: list[tuple[str, Callable[[], object]]] = [
        ("email/digest.*.j2", lambda: _sample_newsletter(settings, folder)),
        ("email/confirm.*.j2", lambda: _sample_confirmation(settings)),
        ("email/manage.*.j2", lambda: _sample_reminder(settings)),
        ("email/alert.txt.j2", lambda: _sample_alert(settings)),
    ]
    for name, build in builders:
        try:
            build()
        except TemplateError as error:
            yield _problem(error, name, folder)


def _sample_newsletter(settings: Settings, folder: Path | None) -> None:
    base = urls(settings)
    mail_meta = MailMeta(
        site_title=settings.site.title,
        site_url=base.home,
        feed_url=base.feed,
        archive_url=base.digests,
        from_address="Paper digest <digest@example.org>",
        list_id="daily.papers.example.org",
        message_domain="example.org",
        max_papers=2,
        templates_dir=folder,
    )
    papers = tuple(_sample_paper(number) for number in (1, 2, 3))
    digest = Digest(id=1, created=SAMPLE_TIME, papers=papers)
    rendered = render_digest(digest, mail_meta, day=SAMPLE_DAY, reasons={1: "matches “experts”"})
    reader = Recipient(
        "reader@example.org",
        "Ada",
        unsubscribe_url=base.unsubscribe("sample-token"),
        view_url=base.reader_copy("sample-token"),
        preferences_url=base.preferences("sample-token"),
    )
    build_message(rendered, reader, mail_meta, message_id="<check@example.org>", date=SAMPLE_TIME)


def _sample_confirmation(settings: Settings) -> None:
    confirmation = Confirmation(
        "reader@example.org", urls(settings).confirm("sample-token"), ("Pre-training",), "weekly"
    )
    build_confirmation(settings, confirmation, now=SAMPLE_TIME, domain="example.org")


def _sample_reminder(settings: Settings) -> None:
    reminder = Reminder("reader@example.org", urls(settings).preferences("sample-token"))
    build_reminder(settings, reminder, now=SAMPLE_TIME, domain="example.org")


def _sample_alert(settings: Settings) -> None:
    health = SourceHealth(
        "https://example.org/papers.json", "hf-api", "failed", SAMPLE_TIME, None,
        "HTTP 503 from https://example.org/papers.json", SAMPLE_TIME, 2,
    )  # fmt: skip
    for failing in (True, False):
        alert_message(settings, health, failing=failing, now=SAMPLE_TIME, domain="example.org")


def _sample_paper(number: int) -> StoredPaper:
    arxiv_id = f"2611.{number:05d}"
    return StoredPaper(
        id=number,
        uid=f"https://arxiv.org/abs/{arxiv_id}",
        title=f"A sample paper, number {number}",
        abstract="We check that every template renders. It does.",
        arxiv_id=arxiv_id,
        version=1,
        doi=None,
        authors=("Ada Lovelace", "Alan Turing"),
        author_count=2,
        organization="Example Lab",
        published=SAMPLE_TIME,
        upvotes=12,
        comments=1,
        categories=("cs.LG",),
        url=f"https://arxiv.org/abs/{arxiv_id}",
        sources=("https://huggingface.co/api/daily_papers",),
        first_seen=SAMPLE_TIME,
        updated=SAMPLE_TIME,
    )


def _problem(error: TemplateError, fallback: str, folder: Path | None) -> TemplateProblem:
    """Where a rendering error happened: the template frame of the traceback, else the builder."""
    if isinstance(error, TemplateSyntaxError) and error.name:
        return TemplateProblem(f"{_shown(error.name, folder)}:{error.lineno}", error.message or "")
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(".j2"):
            return TemplateProblem(f"{frame.filename}:{frame.lineno}", str(error))
    return TemplateProblem(fallback, str(error))


def _shown(name: str, folder: Path | None) -> str:
    """A template name as a path the operator can open."""
    if folder is not None and (folder / name).is_file():
        return str(folder / name)
    return str(shipped_folder() / name.removeprefix("default:"))


def _page_problems(folder: Path | None) -> list[TemplateProblem]:
    environment = web_environment(folder)
    shipped = shipped_folder()
    problems: list[TemplateProblem] = []
    names = set(template_names(shipped)) | set(template_names(folder) if folder else [])
    for name in sorted(n for n in names if n.startswith("web/") and n.endswith(".html.j2")):
        problems += _one_page(environment, name, folder, shipped)
    return problems


def _one_page(
    environment: Environment, name: str, folder: Path | None, shipped: Path
) -> list[TemplateProblem]:
    overridden = folder is not None and (folder / name).is_file()
    path = (folder / name) if overridden and folder is not None else shipped / name
    try:
        tree = environment.parse(path.read_text(encoding="utf-8"), name, str(path))
        environment.get_template(name)  # compiles it, with what it extends and includes
    except TemplateSyntaxError as error:
        return [TemplateProblem(f"{path}:{error.lineno}", error.message or "syntax error")]
    except TemplateError as error:
        return [TemplateProblem(str(path), str(error))]
    if not overridden:
        return []
    allowed = _names_used(environment, shipped / name) | PAGE_GLOBALS
    return [
        TemplateProblem(f"{path}:{line}", f"'{variable}' is not in this page's context "
                        "(docs/templates.md lists what each template gets)")
        for variable, line in _undeclared_with_lines(tree)
        if variable not in allowed
    ]  # fmt: skip


def _names_used(environment: Environment, path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return set(meta.find_undeclared_variables(environment.parse(path.read_text(encoding="utf-8"))))


def _undeclared_with_lines(tree: nodes.Template) -> list[tuple[str, int]]:
    undeclared = meta.find_undeclared_variables(tree)
    seen: dict[str, int] = {}
    for node in tree.find_all(nodes.Name):
        if node.name in undeclared and node.ctx == "load":
            seen.setdefault(node.name, node.lineno)
    return sorted(seen.items(), key=lambda item: item[1])
