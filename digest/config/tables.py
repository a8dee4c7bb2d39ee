"""The array tables of digest.toml: ``[[sources]]`` and ``[[topics]]``, validated with their line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .mistakes import check_url_scheme, did_you_mean
from .settings import SOURCE_KINDS, _positive_float, _schedule_times


@dataclass(frozen=True)
class SourceConfig:
    """One ``[[sources]]`` entry (or one ``--source``)."""

    url: str
    kind: str = "auto"
    name: str | None = None
    timeout: float | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    schedule: tuple[str, ...] = ()  # its own times (HH:MM or cron lines); empty: [schedule] times

    @property
    def label(self) -> str:
        return self.name or self.url


_SOURCE_KEYS = {"url", "kind", "name", "timeout", "headers", "schedule"}


def _sources_from_document(
    document: dict[str, Any], text: str, path: Path
) -> tuple[SourceConfig, ...]:
    entries = document.get("sources", [])
    if not isinstance(entries, list):
        raise ConfigError("`sources` must be written as [[sources]] tables", where=str(path))
    lines = _table_lines(text, "sources")
    return tuple(
        _source_config(entry, f"{path}:{lines[i] if i < len(lines) else '?'}", path.parent)
        for i, entry in enumerate(entries)
    )


def source_location(url: str, folder: Path | None, where: str) -> str:
    """A URL as written; a relative path resolved from ``folder`` (the config file's)."""
    check_url_scheme(url, where)
    if "://" in url or url.startswith("file:") or folder is None:
        return url
    local = Path(url).expanduser()
    # Keep a trailing slash: it tells a folder of listing files from a file.
    resolved = str(local if local.is_absolute() else folder / local)
    return resolved + "/" if url.endswith("/") and not resolved.endswith("/") else resolved


def _source_config(entry: Any, where: str, folder: Path | None = None) -> SourceConfig:
    _check_table(entry, "sources", _SOURCE_KEYS, where)
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
    try:
        schedule = _schedule_times(entry["schedule"]) if "schedule" in entry else ()
    except ValueError as error:
        raise ConfigError(f"schedule = {entry['schedule']!r}: {error}", where=where) from error
    return SourceConfig(
        url=source_location(entry["url"].strip(), folder, where),
        kind=kind,
        name=str(name) if name else None,
        timeout=timeout,
        headers=dict(headers),
        schedule=schedule,
    )


@dataclass(frozen=True)
class TopicConfig:
    """One ``[[topics]]`` entry: a full-text query (SQLite FTS5 syntax) plus optional filters."""

    slug: str
    title: str
    query: str | None = None
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    min_upvotes: int | None = None


_TOPIC_KEYS = {
    "slug",
    "title",
    "query",
    "categories",
    "authors",
    "organizations",
    "sources",
    "min_upvotes",
}
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def _topics_from_document(
    document: dict[str, Any], text: str, path: Path
) -> tuple[TopicConfig, ...]:
    entries = document.get("topics", [])
    if not isinstance(entries, list):
        raise ConfigError("`topics` must be written as [[topics]] tables", where=str(path))
    lines = _table_lines(text, "topics")
    topics = tuple(
        _topic_config(entry, f"{path}:{lines[i] if i < len(lines) else '?'}")
        for i, entry in enumerate(entries)
    )
    slugs = [topic.slug for topic in topics]
    duplicates = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if duplicates:
        raise ConfigError(f"topic slug(s) used twice: {', '.join(duplicates)}", where=str(path))
    return topics


def _topic_config(entry: Any, where: str) -> TopicConfig:
    _check_table(entry, "topics", _TOPIC_KEYS, where)
    slug = entry.get("slug")
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
        raise ConfigError(
            f"slug = {slug!r}: use lower-case letters, digits and dashes (it names a feed file)",
            where=where,
        )
    query = entry.get("query")
    if query is not None and (not isinstance(query, str) or not query.strip()):
        raise ConfigError(
            "query must be a non-empty string (or left out to take everything)", where=where
        )
    min_upvotes = entry.get("min_upvotes")
    if min_upvotes is not None and (not isinstance(min_upvotes, int) or min_upvotes < 0):
        raise ConfigError(
            f"min_upvotes = {min_upvotes!r}: must be a whole number, 0 or more", where=where
        )
    return TopicConfig(
        slug=slug,
        title=str(entry.get("title") or slug),
        query=query.strip() if query else None,
        categories=_strings(entry, "categories", where),
        authors=_strings(entry, "authors", where),
        organizations=_strings(entry, "organizations", where),
        sources=_strings(entry, "sources", where),
        min_upvotes=min_upvotes,
    )


def _strings(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{key} must be a list of strings", where=where)
    return tuple(item.strip() for item in value if item.strip())


def _table_lines(text: str, name: str) -> list[int]:
    return [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if re.fullmatch(rf"\[\[\s*{name}\s*\]\]", line.strip())
    ]


def _check_table(entry: Any, table: str, known: set[str], where: str) -> None:
    """An array-table entry is a table, and every key in it is one we read (no silent typos)."""
    if not isinstance(entry, dict):
        raise ConfigError(f"each [[{table}]] entry must be a table", where=where)
    unknown = sorted(set(entry) - known)
    if unknown:
        hints = "; ".join(f"{key!r}: {did_you_mean(key, known)}" for key in unknown)
        raise ConfigError(f"unknown key(s) in [[{table}]]: {hints}", where=where)


@dataclass(frozen=True)
class ChannelConfig:
    """One ``[[channels]]`` entry: a chat or push service reached through an Apprise URL.

    The URL usually holds a secret (a webhook token), so it may come from the
    environment instead: ``url_env = "DIGEST_SLACK_URL"``. ``url`` is then what
    that variable held when the settings were read, or None when it was unset
    (the channel's posts wait, as ``retry``, until it is set).
    """

    name: str
    url: str | None
    url_env: str | None = None
    topics: tuple[str, ...] = ()
    max_papers: int = 10
    combine_missed: bool = False


_CHANNEL_KEYS = {"name", "url", "url_env", "topics", "max_papers", "combine_missed"}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _channels_from_document(
    document: dict[str, Any], text: str, path: Path, environ: Mapping[str, str]
) -> tuple[ChannelConfig, ...]:
    entries = document.get("channels", [])
    if not isinstance(entries, list):
        raise ConfigError("`channels` must be written as [[channels]] tables", where=str(path))
    lines = _table_lines(text, "channels")
    channels = tuple(
        _channel_config(entry, f"{path}:{lines[i] if i < len(lines) else '?'}", environ)
        for i, entry in enumerate(entries)
    )
    names = [channel.name for channel in channels]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"channel name(s) used twice: {', '.join(duplicates)}", where=str(path))
    return channels


def _channel_config(entry: Any, where: str, environ: Mapping[str, str]) -> ChannelConfig:
    _check_table(entry, "channels", _CHANNEL_KEYS, where)
    name = entry.get("name")
    if not isinstance(name, str) or not _SLUG.fullmatch(name):
        raise ConfigError(
            f"name = {name!r}: use lower-case letters, digits and dashes "
            "(it names the channel in `digest channels test NAME` and in the ledger)",
            where=where,
        )
    url, url_env = entry.get("url"), entry.get("url_env")
    if (url is None) == (url_env is None):
        raise ConfigError(
            f'[[channels]] {name}: give either url = "slack://..." or url_env = "VARIABLE"',
            where=where,
        )
    if url_env is not None:
        if not isinstance(url_env, str) or not _ENV_NAME.fullmatch(url_env):
            raise ConfigError(
                f"url_env = {url_env!r}: must name an environment variable", where=where
            )
        url = environ.get(url_env, "").strip() or None
    elif not isinstance(url, str) or "://" not in url:
        raise ConfigError(
            f"[[channels]] {name}: url must be an Apprise URL like slack://... or json://host/path",
            where=where,
        )
    max_papers = entry.get("max_papers", 10)
    if not isinstance(max_papers, int) or isinstance(max_papers, bool) or max_papers < 1:
        raise ConfigError(
            f"max_papers = {max_papers!r}: must be a whole number of at least 1", where=where
        )
    combine = entry.get("combine_missed", False)
    if not isinstance(combine, bool):
        raise ConfigError(f"combine_missed = {combine!r}: must be true or false", where=where)
    return ChannelConfig(
        name=name,
        url=url.strip() if url else None,
        url_env=url_env,
        topics=_strings(entry, "topics", where),
        max_papers=max_papers,
        combine_missed=combine,
    )


def check_channel_topics(
    channels: tuple[ChannelConfig, ...], topics: tuple[TopicConfig, ...], where: str
) -> None:
    """A channel's topics must be configured topics: a typo would silently post everything."""
    known = {topic.slug for topic in topics}
    for channel in channels:
        unknown = sorted(set(channel.topics) - known)
        if unknown:
            raise ConfigError(
                f"[[channels]] {channel.name}: unknown topic(s) {', '.join(unknown)} "
                f"(configured: {', '.join(sorted(known)) or 'none'})",
                where=where,
            )
