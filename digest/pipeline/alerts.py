"""Operator alerts: one mail when a source has failed N runs in a row, one when it recovers.

Not one mail per failed run (that trains people to ignore them), and never
silence: the state ('failing' / 'ok') is kept per source in history, so a
restart neither repeats nor forgets an alert.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import DeliveryError
from ..history.alerts import alert_state, set_alert_state
from ..history.status import SourceHealth, source_health
from ..model import SourceReport
from ..render.templates import render
from .site import envelope_sender, mail_domain

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger(__name__)


def send_alerts(settings: Settings, runtime: Runtime, reports: Sequence[SourceReport]) -> int:
    """After a run: mail the operator about sources that started failing or recovered."""
    threshold = int(settings.schedule.alert_after)
    health = {item.source: item for item in source_health(runtime.db)}
    sent = 0
    for report in reports:
        item = health.get(report.source)
        if item is None:
            continue
        state = alert_state(runtime.db, report.source)
        if item.consecutive_failures >= threshold and state != "failing":
            sent += _notify(settings, runtime, item, failing=True)
        elif item.consecutive_failures == 0 and state == "failing":
            sent += _notify(settings, runtime, item, failing=False)
    return sent


def _notify(settings: Settings, runtime: Runtime, item: SourceHealth, *, failing: bool) -> int:
    now = runtime.clock()
    message = alert_message(settings, item, failing=failing, now=now)
    try:
        runtime.transport.send(
            message.as_bytes(policy=email.policy.SMTP),
            sender=envelope_sender(settings),
            recipient=settings.mail.operator,
            message_id=str(message["Message-ID"]),
        )
    except DeliveryError as error:
        log.error("could not send the operator alert for %s: %s", item.source, error)
        return 0
    set_alert_state(runtime.db, item.source, "failing" if failing else "ok", now)
    return 1


def alert_message(
    settings: Settings, item: SourceHealth, *, failing: bool, now: datetime
) -> EmailMessage:
    streak = item.consecutive_failures
    body = render(
        "email/alert.txt.j2",
        {
            "failing": failing,
            "streak": streak,
            "site_title": settings.site.title,
            "source": item.source,
            "status": item.last_status,
            "error": item.last_error,
            "checked": item.last_run.strftime("%Y-%m-%d %H:%M UTC"),
        },
    )
    message = EmailMessage()
    what = f"failing for {streak} runs" if failing else "working again"
    message["Subject"] = f"[{settings.site.title}] source {what}: {_short(item.source)}"
    message["From"] = settings.mail.from_address
    message["To"] = settings.mail.operator
    message["Date"] = format_datetime(now)
    key = hashlib.sha256(f"{item.source}\0{failing}\0{now.isoformat()}".encode()).hexdigest()[:16]
    message["Message-ID"] = f"<alert-{key}@{mail_domain(settings)}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def _short(source: str) -> str:
    """Sources are untrusted-ish text from config: one line, bounded, for the subject."""
    line = " ".join(source.split())
    return line if len(line) <= 80 else line[:77] + "..."
