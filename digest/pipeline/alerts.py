"""Operator alerts: one mail when a source has failed N runs in a row, one when it recovers.

Not one mail per failed run (that trains people to ignore them), and never
silence: the state ('failing' / 'ok') is kept per source in history, so a
restart neither repeats nor forgets an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import DeliveryError
from ..history.alerts import alert_state, set_alert_state
from ..history.status import source_health
from ..model import SourceHealth, SourceReport
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
    # Here, not at the top: the mail package's policies cost a run that alerts nobody ~10 ms.
    from ..render.alert import UNFOLDED, alert_message

    now = runtime.clock()
    message = alert_message(settings, item, failing=failing, now=now, domain=mail_domain(settings))
    try:
        runtime.transport.send(
            message.as_bytes(policy=UNFOLDED),
            sender=envelope_sender(settings),
            recipient=settings.mail.operator,
            message_id=str(message["Message-ID"]),
        )
    except DeliveryError as error:
        log.error("could not send the operator alert for %s: %s", item.source, error)
        return 0
    set_alert_state(runtime.db, item.source, "failing" if failing else "ok", now)
    return 1
