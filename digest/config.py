"""Settings: declared once, read from ``digest.toml`` and ``DIGEST_*`` variables, validated at start.

Every setting is one :class:`Setting` in :data:`SETTINGS` (section, key, default,
help, parser). ``digest init`` writes the sample file from this table and a test
keeps ``deploy/digest.toml`` complete, so documentation cannot drift from code.

Precedence, lowest first: defaults, the TOML file, ``DIGEST_<SECTION>_<KEY>``
environment variables (``DIGEST_FEED_WINDOW_DAYS=7``; top-level keys are
``DIGEST_<KEY>``, e.g. ``DIGEST_DATA_DIR``), then command-line options.
Nothing here reads the environment at import time: callers pass ``environ``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError

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


def _address_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\s]+", value) if part]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("must be a list of e-mail addresses")
    return tuple(value)


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
)


@dataclass(frozen=True)
class SourceConfig:
    """One ``[[sources]]`` entry (or one ``--source``)."""

    url: str
    kind: str = "auto"
    name: str | None = None
    timeout: float | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.url


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]
    sources: tuple[SourceConfig, ...]
    config_path: Path | None = None

    def get(self, section: str, key: str) -> Any:
        return self.values[f"{section}.{key}" if section else key]

    @property
    def data_dir(self) -> Path:
        return Path(self.values["data_dir"])


_BY_NAME = {(s.section, s.key): s for s in SETTINGS}
_SOURCE_KEYS = {"url", "kind", "name", "timeout", "headers"}


def load_settings(
    path: Path | None = None,
    *,
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults ← TOML file ← environment ← ``overrides`` (``{"data_dir": ...}``, CLI options)."""
    values: dict[str, Any] = {_dotted(s): s.default for s in SETTINGS}
    sources: tuple[SourceConfig, ...] = ()
    if path is not None:
        text = _read_config(path)
        document = _parse_toml(text, path)
        values.update(_values_from_document(document, text, path))
        sources = _sources_from_document(document, text, path)
    values.update(_values_from_environment(environ))
    for name, value in (overrides or {}).items():
        section, _, key = name.rpartition(".")
        values[name] = _apply(_BY_NAME[(section, key)], value, f"option {name}")
    if not sources:
        sources = (SourceConfig(DEFAULT_SOURCE),)
    return Settings(values=values, sources=sources, config_path=path)


def _dotted(setting: Setting) -> str:
    return f"{setting.section}.{setting.key}" if setting.section else setting.key


def _read_config(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "config file not found (run `digest init` to write one)", where=str(path)
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file: {error}", where=str(path)) from error


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message already ends "(at line L, column C)".
        raise ConfigError(f"not valid TOML: {error}", where=str(path)) from error


def _apply(setting: Setting, raw: Any, where: str) -> Any:
    try:
        return setting.parse(raw)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{_dotted(setting)} = {raw!r}: {error}", where=where) from error


def _values_from_document(document: dict[str, Any], text: str, path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in document.items():
        if name == "sources":
            continue
        if isinstance(raw, dict):
            for key, item in raw.items():
                values.update(_one_value(name, key, item, text, path))
        else:
            values.update(_one_value("", name, raw, text, path))
    return values


def _one_value(section: str, key: str, raw: Any, text: str, path: Path) -> dict[str, Any]:
    where = f"{path}:{_line_of(text, section, key)}"
    setting = _BY_NAME.get((section, key))
    if setting is None:
        known = ", ".join(sorted(_dotted(s) for s in SETTINGS))
        name = f"{section}.{key}" if section else key
        raise ConfigError(f"unknown setting {name!r} (known: {known})", where=where)
    return {_dotted(setting): _apply(setting, raw, where)}


def _sources_from_document(
    document: dict[str, Any], text: str, path: Path
) -> tuple[SourceConfig, ...]:
    entries = document.get("sources", [])
    if not isinstance(entries, list):
        raise ConfigError("`sources` must be written as [[sources]] tables", where=str(path))
    lines = _source_table_lines(text)
    return tuple(
        _source_config(entry, f"{path}:{lines[i] if i < len(lines) else '?'}")
        for i, entry in enumerate(entries)
    )


def _source_config(entry: Any, where: str) -> SourceConfig:
    if not isinstance(entry, dict):
        raise ConfigError("each [[sources]] entry must be a table", where=where)
    unknown = set(entry) - _SOURCE_KEYS
    if unknown:
        raise ConfigError(
            f"unknown key(s) {sorted(unknown)} in [[sources]] (known: {sorted(_SOURCE_KEYS)})",
            where=where,
        )
    if not isinstance(entry.get("url"), str) or not entry["url"].strip():
        raise ConfigError('[[sources]] entry needs url = "https://..." or a path', where=where)
    kind = entry.get("kind", "auto")
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"kind = {kind!r}: must be one of {', '.join(SOURCE_KINDS)}", where=where)
    headers = entry.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ConfigError("headers must be a table of strings", where=where)
    timeout = entry.get("timeout")
    try:
        timeout = None if timeout is None else _positive_float(timeout)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"timeout = {timeout!r}: {error}", where=where) from error
    name = entry.get("name")
    return SourceConfig(
        url=entry["url"].strip(),
        kind=kind,
        name=str(name) if name else None,
        timeout=timeout,
        headers=dict(headers),
    )


def _values_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env_name)
        if raw is not None and raw != "":
            values[_dotted(setting)] = _apply(setting, raw, f"environment {setting.env_name}")
    return values


def _line_of(text: str, section: str, key: str) -> int | str:
    """The line where ``key`` is set inside ``[section]``: for messages that say where to look."""
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\s*([^\[\]]+?)\s*\]", stripped)
        if header:
            current = header.group(1)
        elif current == section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return "?"


def _source_table_lines(text: str) -> list[int]:
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if re.fullmatch(r"\[\[\s*sources\s*\]\]", line.strip())
    ]


def sample_config() -> str:
    """The commented sample ``digest init`` writes: every setting with its default and help."""
    lines = [
        "# digest configuration. Every setting is shown with its default.",
        "# Any setting can also be given as an environment variable, e.g. DIGEST_FEED_WINDOW_DAYS.",
        "",
    ]
    section = None
    for setting in SETTINGS:
        if setting.section != section:
            section = setting.section
            if section:
                lines += ["", f"[{section}]"]
        lines += [f"# {setting.help}  (env: {setting.env_name})", f"# {_toml_line(setting)}"]
    lines += [
        "",
        "# Sources, fetched in this order. Without any, digest reads today's Hugging Face",
        "# Daily Papers. kind is detected from the URL path and content; set it to override.",
        "[[sources]]",
        f'url = "{DEFAULT_SOURCE}"',
        "",
        "# [[sources]]",
        '# url = "https://rss.arxiv.org/rss/cs.LG"',
        '# name = "arXiv cs.LG"',
        '# kind = "arxiv-rss"',
        "# timeout = 30",
        '# headers = { Authorization = "Bearer hf_..." }',
        "",
    ]
    return "\n".join(lines)


def _toml_line(setting: Setting) -> str:
    default = setting.default
    if isinstance(default, str):
        return f'{setting.key} = "{default}"'
    if isinstance(default, tuple):
        return f"{setting.key} = [{', '.join(repr(v) for v in default)}]"
    return f"{setting.key} = {default}"
