"""Every scalar setting, declared once as a typed field: its section, default, help and parser.

One frozen dataclass per TOML section (``settings.feed.window_days: int``), so
mypy sees every use of a setting. :data:`SETTINGS` lists them all, derived from
the dataclasses: ``digest init`` writes the sample file from it, README's table
is checked against it, and so is ``deploy/digest.toml``; the documentation
cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_SOURCE = "https://huggingface.co/api/daily_papers"
# Settings that name a file or folder: relative ones in a config file mean "beside the file".
PATH_SETTINGS = frozenset({"data_dir", "site.templates_dir"})
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


ABSTRACT_MODES = ("tldr", "full", "none")


def _abstract_mode(value: Any) -> str:
    mode = _text(value).strip().lower()
    if mode not in ABSTRACT_MODES:
        raise ValueError(f"must be one of {', '.join(map(repr, ABSTRACT_MODES))}")
    return mode


def _no_newlines(value: Any) -> str:
    text = _text(value)
    if "\r" in text or "\n" in text:
        raise ValueError("must be one line (it goes into mail headers)")
    return text


def _orphan_policy(value: Any) -> str:
    text = _text(value).strip().lower()
    if text not in ("none", "all"):
        raise ValueError('must be "none" or "all"')
    return text


def _language_tag(value: Any) -> str:
    text = _text(value).strip()
    # BCP 47's shape (RFC 5646 §2.1), loosely: "en", "de-CH", "zh-Hant".
    if not re.fullmatch(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*", text):
        raise ValueError('must be a language tag like "en" or "de-CH"')
    return text


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _marks(value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\s]+", value) if part]
    if not isinstance(value, list | tuple):
        raise ValueError("must be a list of whole numbers like [50, 100]")
    return tuple(sorted({_positive_int(item) for item in value}))


def setting(
    default: Any, help: str, parse: Callable[[Any], Any], *, shown: str | None = None
) -> Any:
    """A field of a settings section: its default, the help line (Markdown), the parser that
    validates it, and how the docs show the default when the value itself says little."""
    return field(default=default, metadata={"help": help, "parse": parse, "shown": shown})


@dataclass(frozen=True)
class SiteSettings:
    """``[site]``: Who the digest is and where it lives: the name, public URL, signing secret."""

    title: str = setting(
        "Paper digest",
        "Name shown in the feed, mail and pages.",
        _no_newlines,
    )
    base_url: str = setting(
        "http://localhost:8000",
        "Public URL of `digest serve` (links in feeds and mail).",
        _http_url,
    )
    secret: str = setting(
        "",
        "Signs unsubscribe and confirmation links; empty: generated into `data_dir/secret.key`.",
        _text,
        shown="generated",
    )
    templates_dir: str = setting(
        "",
        "A folder of your own templates (email/..., web/...) that replace the shipped ones of the same name (docs/templates.md).",
        _text,
    )
    websub_hub: str = setting(
        "",
        "WebSub hub to ping when a feed changes (empty: off).",
        _optional_http_url,
        shown="empty",
    )
    language: str = setting(
        "en",
        "Language of the feeds (xml:lang, JSON Feed language): a tag like en or de-CH.",
        _language_tag,
    )


@dataclass(frozen=True)
class FeedSettings:
    """``[feed]``: The Atom feeds: how far back they reach."""

    window_days: int = setting(
        14,
        "Papers first seen in this many days stay in the feed.",
        _positive_int,
    )
    max_entries: int = setting(
        500,
        "At most this many entries in a feed.",
        _positive_int,
    )


@dataclass(frozen=True)
class MailSettings:
    """``[mail]``: The newsletter: sender, relay, readers' limits."""

    from_address: str = setting(
        "Paper digest <digest@localhost>",
        "From header; use a domain your relay signs with DKIM.",
        _no_newlines,
    )
    operator: str = setting(
        "operator@localhost",
        "Gets the digest while there are no readers, and alerts.",
        _no_newlines,
    )
    recipients: tuple[str, ...] = setting(
        (),
        "Addresses that get every digest (your own list).",
        _address_list,
        shown="none",
    )
    smtp_url: str = setting(
        "maildir:outbox",
        "`maildir:PATH`, `smtp://user:pass@host:587` (STARTTLS), `smtps://host:465`, `smtp://127.0.0.1:25?tls=off` (loopback only).",
        _text,
    )
    smtp_user: str = setting(
        "",
        "SMTP user name, when not in `smtp_url`.",
        _text,
        shown="empty",
    )
    smtp_password: str = setting(
        "",
        "SMTP password, when not in `smtp_url`.",
        _text,
        shown="empty",
    )
    send_rate: float = setting(
        0.0,
        "Messages per second to the relay (0: no limit).",
        _non_negative_float,
    )
    batch_size: int = setting(
        200,
        "Messages per SMTP connection before reconnecting.",
        _positive_int,
    )
    smtp_timeout: float = setting(
        30.0,
        "Seconds to wait for the relay's answer; a relay silent twice in a row is given up on "
        "until the next drain.",
        _positive_float,
    )
    unsubscribe_mailto: str = setting(
        "",
        "An address whose mail you process as unsubscribe requests (adds a `mailto:` to List-Unsubscribe).",
        _no_newlines,
        shown="empty",
    )
    max_papers: int = setting(
        30,
        'Papers shown in one mail; the rest is one "and N more" link.',
        _positive_int,
    )
    abstract: str = setting(
        "tldr",
        "What a mail shows of each abstract: `tldr` (Hugging Face's summary, else the "
        "abstract's first sentence or two), `full`, or `none`.",
        _abstract_mode,
    )
    min_papers: int = setting(
        1,
        "A reader's mail goes out only with at least this many papers for them.",
        _non_negative_int,
    )
    orphaned_topics: str = setting(
        "none",
        "What a reader gets for a topic no longer in `[[topics]]`: `none` (nothing of it; "
        "a reader left with no topic gets no mail) or `all` (every paper).",
        _orphan_policy,
    )


@dataclass(frozen=True)
class HttpSettings:
    """``[http]``: Fetching sources: timeouts, retries, politeness."""

    timeout: float = setting(
        20.0,
        "Seconds to wait for a connection or a read.",
        _positive_float,
    )
    retries: int = setting(
        3,
        "Retries on connect errors, 429 and 5xx (exponential backoff with jitter; Retry-After and RateLimit honoured).",
        _non_negative_int,
    )
    source_deadline: float = setting(
        120.0,
        "Seconds one source may take, retries and waits included.",
        _positive_float,
    )
    host_interval: float = setting(
        1.0,
        "Seconds between requests to one host (arXiv hosts always get 3).",
        _non_negative_float,
    )


@dataclass(frozen=True)
class RankingSettings:
    """``[ranking]``: The weights of the blended order in every mail and topic feed (docs/topics.md)."""

    relevance: float = setting(
        1.0,
        "Weight of full-text relevance (bm25).",
        _non_negative_float,
    )
    upvotes: float = setting(
        0.5,
        "Weight of Hugging Face upvotes.",
        _non_negative_float,
    )
    comments: float = setting(
        0.2,
        "Weight of Hugging Face comments.",
        _non_negative_float,
    )
    freshness: float = setting(
        0.3,
        "Weight of how recent a paper is (publication date, else first seen; half-life 7 days).",
        _non_negative_float,
    )


@dataclass(frozen=True)
class ScheduleSettings:
    """``[schedule]``: When `digest serve` / `digest schedule` run, and when the operator is alerted."""

    times: tuple[str, ...] = setting(
        ("07:00",),
        "When `digest serve` / `digest schedule` run: `HH:MM` or cron lines (env: `07:00,19:30`, or cron lines separated by `;`).",
        _schedule_times,
    )
    timezone: str = setting(
        "",
        "IANA time zone of the times.",
        _timezone_name,
        shown="the machine's",
    )
    misfire_grace: int = setting(
        6 * 3600,
        "Seconds after a missed time in which one catch-up run still happens.",
        _positive_int,
    )
    alert_after: int = setting(
        2,
        "Mail the operator after this many failed runs of a source in a row.",
        _positive_int,
    )


@dataclass(frozen=True)
class FollowUpSettings:
    """``[follow_ups]``: Updates on papers already announced: code, new versions, venues (docs/follow-ups.md)."""

    window_days: int = setting(
        30,
        "Papers first seen in this many days are followed up.",
        _positive_int,
    )
    upvote_marks: tuple[int, ...] = setting(
        (50, 100),
        "Hugging Face upvote counts whose crossing is an update.",
        _marks,
        shown="`[50, 100]`",
    )
    check: bool = setting(
        True,
        "Once a day, ask the Hugging Face and arXiv APIs about the papers in the window.",
        _bool,
        shown="`true`",
    )
    send_alone: bool = setting(
        False,
        "Send a mail or chat post that holds only updates (no new papers).",
        _bool,
        shown="`false`",
    )
    hf_per_day: int = setting(
        200,
        "At most this many Hugging Face per-paper requests a day (least recently asked first).",
        _non_negative_int,
    )
    hf_api_base: str = setting(
        "https://huggingface.co",
        "Where the Hugging Face API lives (`/api/papers/<id>`).",
        _http_url,
    )
    arxiv_api_base: str = setting(
        "https://export.arxiv.org",
        "Where the arXiv API lives (`/api/query?id_list=…`).",
        _http_url,
    )


SECTIONS: dict[str, type] = {
    "site": SiteSettings,
    "feed": FeedSettings,
    "mail": MailSettings,
    "http": HttpSettings,
    "ranking": RankingSettings,
    "schedule": ScheduleSettings,
    "follow_ups": FollowUpSettings,
}
DATA_DIR_DEFAULT = "digest-data"
DATA_DIR_HELP = "Folder for digest.db, feed.atom and outbox/ (also `--data-dir`)."


@dataclass(frozen=True)
class Setting:
    """One setting as the loader, the sample file and the docs see it."""

    section: str  # "" for top-level keys
    key: str
    default: Any
    help: str
    parse: Callable[[Any], Any]
    shown: str | None = None  # the default as the docs say it ("generated", "the machine's")

    @property
    def env_name(self) -> str:
        parts = ["DIGEST", self.section, self.key] if self.section else ["DIGEST", self.key]
        return "_".join(part.upper() for part in parts)

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.key}" if self.section else self.key


def _from_field(section: str, declared: Field[Any]) -> Setting:
    assert declared.default is not MISSING, f"{section}.{declared.name} needs a default"
    return Setting(
        section,
        declared.name,
        declared.default,
        declared.metadata["help"],
        declared.metadata["parse"],
        declared.metadata["shown"],
    )


SETTINGS: tuple[Setting, ...] = (
    Setting("", "data_dir", DATA_DIR_DEFAULT, DATA_DIR_HELP, _text),
    *(_from_field(name, declared) for name, cls in SECTIONS.items() for declared in fields(cls)),
)


def build_sections(values: dict[str, Any]) -> dict[str, Any]:
    """The section objects from validated ``{"feed.window_days": 7, ...}`` values."""
    return {
        name: cls(**{f.name: values[f"{name}.{f.name}"] for f in fields(cls)})
        for name, cls in SECTIONS.items()
    }


def data_dir_of(values: dict[str, Any]) -> Path:
    return Path(values["data_dir"])


def settings_table() -> str:
    """README's table of every setting, generated here so the two cannot disagree."""
    lines = [
        "| setting | environment | default | what it does |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{s.dotted}` | `{s.env_name}` | {_shown_default(s)} | {s.help} |" for s in SETTINGS
    ]
    return "\n".join(lines) + "\n"


def _shown_default(setting: Setting) -> str:
    if setting.shown is not None:
        return setting.shown
    default = setting.default
    if default in ("", ()):
        return "none" if default == () else "empty"
    if isinstance(default, tuple):
        return "`[" + ", ".join(f'"{item}"' for item in default) + "]`"
    if isinstance(default, float) and default.is_integer() and setting.section != "ranking":
        return f"`{int(default)}`"
    return f"`{default}`"
