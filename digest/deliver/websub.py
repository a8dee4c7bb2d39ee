"""WebSub (W3C Recommendation, 2018): tell a hub a feed changed, so readers get it pushed.

Feeds advertise the hub with ``<link rel="hub">`` (see :mod:`.render.feed`);
after a run rewrites a feed, :func:`ping_hub` POSTs the de-facto publish ping
(``hub.mode=publish&hub.url=<feed>``) that pubsubhubbub.appspot.com,
Superfeedr and self-hosted hubs accept. A hub that is down or refuses costs
the readers a little latency, never the run: failures are logged, not raised.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

log = logging.getLogger(__name__)


def ping_hub(client: httpx.Client, hub: str, feed_urls: Sequence[str]) -> list[str]:
    """Ping ``hub`` once per changed feed; return the feed URLs the hub accepted (any 2xx)."""
    accepted: list[str] = []
    for url in feed_urls:
        try:
            response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
        except httpx.HTTPError as error:
            log.warning("websub: cannot reach hub %s for %s: %s", hub, url, error)
            continue
        if response.is_success:
            accepted.append(url)
            log.info("websub: hub %s accepted %s (%d)", hub, url, response.status_code)
        else:
            log.warning(
                "websub: hub %s answered %d for %s: %s",
                hub, response.status_code, url, response.text[:200],
            )  # fmt: skip
    return accepted
