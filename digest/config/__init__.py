"""Settings: declared once, read from ``digest.toml`` and ``DIGEST_*`` variables, validated at start.

Every setting is a typed field of its section's dataclass (``settings.feed.window_days``);
:data:`SETTINGS` lists them (section, key, default, help, parser). ``digest init`` writes the sample file from this table and a test
keeps ``deploy/digest.toml`` complete, so documentation cannot drift from code.

Precedence, lowest first: defaults, the TOML file, ``DIGEST_<SECTION>_<KEY>``
environment variables (``DIGEST_FEED_WINDOW_DAYS=7``; top-level keys are
``DIGEST_<KEY>``, e.g. ``DIGEST_DATA_DIR``), then command-line options.
Nothing here reads the environment at import time: callers pass ``environ``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .mistakes import did_you_mean, toml_error
from .settings import (
    DEFAULT_SOURCE,
    PATH_SETTINGS,
    SETTINGS,
    SOURCE_KINDS,
    FeedSettings,
    FollowUpSettings,
    HttpSettings,
    MailSettings,
    RankingSettings,
    ScheduleSettings,
    Setting,
    SiteSettings,
    build_sections,
    data_dir_of,
)
from .tables import (
    ChannelConfig,
    SourceConfig,
    TopicConfig,
    _channels_from_document,
    _sources_from_document,
    _topics_from_document,
    check_channel_topics,
    source_location,
)

__all__ = [
    "DEFAULT_SOURCE",
    "SETTINGS",
    "SOURCE_KINDS",
    "ChannelConfig",
    "FeedSettings",
    "FollowUpSettings",
    "HttpSettings",
    "MailSettings",
    "RankingSettings",
    "ScheduleSettings",
    "Setting",
    "Settings",
    "SiteSettings",
    "SourceConfig",
    "TopicConfig",
    "load_settings",
    "sample_config",
    "source_location",
]


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, validated: one typed object per TOML section."""

    data_dir: Path
    site: SiteSettings
    feed: FeedSettings
    mail: MailSettings
    http: HttpSettings
    ranking: RankingSettings
    schedule: ScheduleSettings
    sources: tuple[SourceConfig, ...]
    topics: tuple[TopicConfig, ...] = ()
    config_path: Path | None = None
    channels: tuple[ChannelConfig, ...] = ()
    follow_ups: FollowUpSettings = field(default_factory=FollowUpSettings)


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
    topics: tuple[TopicConfig, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()
    if path is not None:
        # Errors name the file absolutely, and relative paths in it mean "beside this file".
        path = Path(os.path.abspath(path))
        text = _read_config(path)
        document = _parse_toml(text, path)
        values.update(_resolve_paths(_values_from_document(document, text, path), path.parent))
        sources = _sources_from_document(document, text, path)
        topics = _topics_from_document(document, text, path)
        channels = _channels_from_document(document, text, path, environ)
        check_channel_topics(channels, topics, str(path))
    values.update(_values_from_environment(environ))
    for name, value in (overrides or {}).items():
        section, _, key = name.rpartition(".")
        values[name] = _apply(_BY_NAME[(section, key)], value, f"option {name}")
    if not sources:
        sources = (SourceConfig(DEFAULT_SOURCE),)
    return Settings(
        data_dir=data_dir_of(values),
        **build_sections(values),
        sources=sources,
        topics=topics,
        config_path=path,
        channels=channels,
    )


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
    import tomllib  # only when there is a file (see .mistakes)

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise toml_error(error, text, str(path)) from error


def _resolve_paths(values: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``data_dir = "state"`` in /etc/digest/digest.toml means /etc/digest/state, from any cwd."""
    resolved = dict(values)
    for name in PATH_SETTINGS & resolved.keys():
        if resolved[name] and not Path(resolved[name]).expanduser().is_absolute():
            resolved[name] = str(folder / resolved[name])
    return resolved


def _apply(setting: Setting, raw: Any, where: str) -> Any:
    try:
        return setting.parse(raw)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{_dotted(setting)} = {raw!r}: {error}", where=where) from error


def _values_from_document(document: dict[str, Any], text: str, path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in document.items():
        if name in ("sources", "topics", "channels"):
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
        name = f"{section}.{key}" if section else key
        keys = [s.key for s in SETTINGS if s.section == section]
        if not keys:
            sections = {s.section for s in SETTINGS if s.section}
            hint = did_you_mean(section, sections | {"sources", "topics"})
            raise ConfigError(f"unknown section [{section}] ({hint})", where=where)
        raise ConfigError(f"unknown setting {name!r} ({did_you_mean(key, keys)})", where=where)
    return {_dotted(setting): _apply(setting, raw, where)}


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
        "# Topics: each is a feed (topics/<slug>.atom) and a newsletter section that",
        "# readers pick (`digest subscribers add EMAIL --topics pretraining`). query is",
        "# SQLite FTS5 syntax over title and abstract (try it: `digest search QUERY`,",
        "# `digest topics test SLUG`); without a query a topic takes every paper its",
        "# filters let through. Filters: categories, authors, organizations, sources,",
        "# min_upvotes.",
        "# [[topics]]",
        '# slug = "pretraining"',
        '# title = "Pre-training"',
        "# query = 'pretrain* OR \"pre train\"*'",
        '# categories = ["cs.LG", "cs.CL"]',
        "# min_upvotes = 5",
        "",
        "# Channels: one post per digest to a chat or push service, through an Apprise",
        "# URL (slack://, discord://, tgram://, matrix://, ntfy://, json://host/path, ...).",
        "# Keep the secret out of this file with url_env. topics narrows the post to those",
        "# topics; max_papers caps it (the rest is a link to the day page);",
        "# combine_missed = true posts one message for digests missed while it was down.",
        "# Try one: `digest channels test NAME`.",
        "# [[channels]]",
        '# name = "team-slack"',
        '# url_env = "DIGEST_SLACK_URL"',
        '# topics = ["pretraining"]',
        "# max_papers = 10",
        "# combine_missed = false",
        "",
    ]
    return "\n".join(lines)


def _toml_line(setting: Setting) -> str:
    default = setting.default
    if isinstance(default, bool):
        return f"{setting.key} = {str(default).lower()}"
    if isinstance(default, str):
        return f'{setting.key} = "{default}"'
    if isinstance(default, tuple):
        return f"{setting.key} = [{', '.join(repr(v) for v in default)}]"
    return f"{setting.key} = {default}"
