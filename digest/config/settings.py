"""Every scalar setting, declared once: section, key, default, help, and the parser that validates it.

``digest init`` writes the sample file from this table and a test keeps
``deploy/digest.toml`` complete, so the documentation cannot drift from code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DEFAULT_SOURCE = "https://huggingface.co/api/daily_papers"
SOURCE_KINDS = ("auto", "hf-api", "hf-page", "text", "arxiv-list", "arxiv-api", "arxiv-rss", "feed")


def _positive_int(value: Any) -> int:
    number = int(value)
    if number < 1 or isinstance(value, bool):
        raise ValueError("must be a whole number of at least 1")
    return number


def _non_negative_int(value: Any) -> int:
    number = int(value)
    if number < 0 or isinstance(value, bool):
        raise ValueError("must be a whole number, 0 or more")
    return number


def _positive_float(value: Any) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("must be a number above 0")
    return number


def _non_negative_float(value: Any) -> float:
    number = float(value)
    if number < 0:
        raise ValueError("must be a number, 0 or more")
    return number


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _http_url(value: Any) -> str:
    text = _text(value).rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    return text


def _optional_http_url(value: Any) -> str:
    return _http_url(value) if _text(value).strip() else ""


def _address_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\s]+", value) if part]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("must be a list of e-mail addresses")
    return tuple(value)


def _schedule_times(value: Any) -> tuple[str, ...]:
    items = _split_times(value) if isinstance(value, str) else value
    if (
        not isinstance(items, list | tuple)
        or not items
        or not all(isinstance(i, str) for i in items)
    ):
        raise ValueError(
            'must be a list like ["07:00", "19:30"] or cron lines like "0 7 * * mon-fri"'
        )
    for item in items:
        if not (re.fullmatch(r"\d{1,2}:\d{2}", item.strip()) or len(item.split()) == 5):
            raise ValueError(f"{item!r} is neither HH:MM nor a 5-field cron line")
    return tuple(item.strip() for item in items)


def _split_times(text: str) -> list[str]:
    """An environment value: "07:00,19:30", or cron lines separated by ";"."""
    parts = [part.strip() for part in text.split(";") if part.strip()]
    pieces = [piece.strip() for piece in text.split(",")]
    if len(parts) == 1 and all(re.fullmatch(r"\d{1,2}:\d{2}", piece) for piece in pieces):
        return pieces
    return parts


def _timezone_name(value: Any) -> str:
    name = _text(value).strip()
    if name:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)"
            ) from error
    return name


def _no_newlines(value: Any) -> str:
    text = _text(value)
    if "\r" in text or "\n" in text:
        raise ValueError("must be one line (it goes into mail headers)")
    return text


@dataclass(frozen=True)
class Setting:
    section: str  # "" for top-level keys
    key: str
    default: Any
    help: str
    parse: Callable[[Any], Any]

    @property
    def env_name(self) -> str:
        parts = ["DIGEST", self.section, self.key] if self.section else ["DIGEST", self.key]
        return "_".join(part.upper() for part in parts)


SETTINGS: tuple[Setting, ...] = (
    Setting("", "data_dir", "digest-data", "Folder for digest.db, feed.atom and outbox/.", _text),
    Setting(
        "site", "title", "Paper digest", "Name shown in the feed, mail and pages.", _no_newlines
    ),
    Setting(
        "site",
        "base_url",
        "http://localhost:8000",
        "Public URL of `digest serve` (links in feeds and mail).",
        _http_url,
    ),
    Setting(
        "site",
        "secret",
        "",
        "Signs unsubscribe and confirmation links. Empty: generated into data_dir/secret.key.",
        _text,
    ),
    Setting(
        "site",
        "websub_hub",
        "",
        "WebSub hub to ping when a feed changes, e.g. https://pubsubhubbub.appspot.com/ (empty: off).",
        _optional_http_url,
    ),
    Setting(
        "feed",
        "window_days",
        14,
        "Papers first seen in this many days stay in the feed.",
        _positive_int,
    ),
    Setting("feed", "max_entries", 500, "At most this many entries in a feed.", _positive_int),
    Setting(
        "mail",
        "from_address",
        "Paper digest <digest@localhost>",
        "From header. Use a domain your relay signs with DKIM.",
        _no_newlines,
    ),
    Setting(
        "mail",
        "operator",
        "operator@localhost",
        "Gets a copy of the digest when there are no recipients, and alerts.",
        _no_newlines,
    ),
    Setting(
        "mail",
        "recipients",
        (),
        "Addresses that get every digest (operator's list).",
        _address_list,
    ),
    Setting(
        "mail",
        "smtp_url",
        "maildir:outbox",
        "maildir:PATH (relative to data_dir), smtp://user:pass@host:587, smtps://host:465.",
        _text,
    ),
    Setting("mail", "smtp_user", "", "SMTP user name, when not in smtp_url.", _text),
    Setting("mail", "smtp_password", "", "SMTP password, when not in smtp_url.", _text),
    Setting(
        "mail",
        "send_rate",
        0.0,
        "Messages per second to the relay (0: no limit).",
        _non_negative_float,
    ),
    Setting(
        "mail",
        "batch_size",
        200,
        "Messages per SMTP connection before reconnecting.",
        _positive_int,
    ),
    Setting(
        "mail",
        "unsubscribe_mailto",
        "",
        "An address whose mail you process as unsubscribe requests (List-Unsubscribe mailto:).",
        _no_newlines,
    ),
    Setting(
        "mail", "max_papers", 30, "Papers shown in one mail; the rest is a link.", _positive_int
    ),
    Setting(
        "mail",
        "min_papers",
        1,
        "A reader's mail is sent only with at least this many papers for them (0: send empty days too).",
        _non_negative_int,
    ),
    Setting(
        "http", "timeout", 20.0, "Seconds to wait for a connection or a read.", _positive_float
    ),
    Setting("http", "retries", 3, "Retries on connect errors, 429 and 5xx.", _non_negative_int),
    Setting(
        "http",
        "source_deadline",
        120.0,
        "Seconds one source may take, retries and waits included.",
        _positive_float,
    ),
    Setting(
        "http",
        "host_interval",
        1.0,
        "Seconds between requests to one host (arXiv hosts always get 3).",
        _non_negative_float,
    ),
    Setting(
        "ranking",
        "relevance",
        1.0,
        "Weight of full-text relevance (bm25) in the order.",
        _non_negative_float,
    ),
    Setting(
        "ranking",
        "upvotes",
        0.5,
        "Weight of Hugging Face upvotes (log-scaled).",
        _non_negative_float,
    ),
    Setting(
        "ranking",
        "comments",
        0.2,
        "Weight of Hugging Face comments (log-scaled).",
        _non_negative_float,
    ),
    Setting(
        "ranking",
        "freshness",
        0.3,
        "Weight of how recent the paper is (its publication date, else when first seen; half-life 7 days).",
        _non_negative_float,
    ),
    Setting(
        "schedule",
        "times",
        ("07:00",),
        "When `digest serve` / `digest schedule` run: HH:MM times, or 5-field cron lines.",
        _schedule_times,
    ),
    Setting(
        "schedule",
        "timezone",
        "",
        "IANA time zone for the times (empty: the machine's).",
        _timezone_name,
    ),
    Setting(
        "schedule",
        "misfire_grace",
        6 * 3600,
        "Seconds after a missed time in which a run still happens once (catch-up).",
        _positive_int,
    ),
    Setting(
        "schedule",
        "alert_after",
        2,
        "Mail the operator after this many consecutive failed runs of a source.",
        _positive_int,
    ),
)
