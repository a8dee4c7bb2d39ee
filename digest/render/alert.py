"""The operator's alert mail: plain text, one per change of a source's health (see pipeline/alerts.py)."""

from __future__ import annotations

import email.policy
import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from ..config import Settings
from ..locations import templates_dir
from ..model import SourceHealth
from .templates import render

# Lines up to RFC 5322's 998 characters: a subject holding a long URL is not
# folded onto a second line (some clients then show it with an empty first line).
UNFOLDED = email.policy.SMTP.clone(max_line_length=998)


def alert_message(
    settings: Settings, item: SourceHealth, *, failing: bool, now: datetime, domain: str
) -> EmailMessage:
    """The operator's alert: a source failing ``alert_after`` runs in a row, or working again."""
    streak = item.consecutive_failures
    body = render(
        "email/alert.txt.j2",
        {
            "failing": failing,
            "streak": streak,
            "site_title": settings.site.title,
            "source": _label(settings, item.source),
            "status": item.last_status,
            # Only a failing source's mail shows its error: a recovered one has none now.
            "error": item.last_error if failing else None,
            "checked": item.last_run.strftime("%Y-%m-%d %H:%M UTC"),
        },
        templates_dir=templates_dir(settings),
    )
    message = EmailMessage(policy=UNFOLDED)
    what = f"failing for {streak} runs" if failing else "working again"
    name = _names(settings).get(item.source) or item.source
    message["Subject"] = f"[{settings.site.title}] source {what}: {_short(name)}"
    message["From"] = settings.mail.from_address
    message["To"] = settings.mail.operator
    message["Date"] = format_datetime(now)
    key = hashlib.sha256(f"{item.source}\0{failing}\0{now.isoformat()}".encode()).hexdigest()[:16]
    message["Message-ID"] = f"<alert-{key}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def _short(source: str) -> str:
    """Sources are untrusted-ish text from config: one line, bounded, for the subject."""
    line = " ".join(source.split())
    return line if len(line) <= 80 else line[:77] + "..."


def _names(settings: Settings) -> dict[str, str | None]:
    return {source.url: source.name for source in settings.sources}


def _label(settings: Settings, source: str) -> str:
    name = _names(settings).get(source)
    return f"{name} ({source})" if name else source
