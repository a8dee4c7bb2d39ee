"""Where everything is: every public URL and every file under the data directory.

Pages, feeds, mail and the web routes all ask here, so a URL or a file name is
spelled once. Public URLs are built from ``[site] base_url`` (the address behind
the reverse proxy), never from a request's Host header.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import Settings


@dataclass(frozen=True)
class Urls:
    """The public URLs of a deployment (``base`` has no trailing slash)."""

    base: str

    @property
    def home(self) -> str:
        return f"{self.base}/"

    @property
    def feed(self) -> str:
        return f"{self.base}/feed.atom"

    @property
    def feed_json(self) -> str:
        return f"{self.base}/feed.json"

    @property
    def stylesheet(self) -> str:
        return f"{self.base}/feed.xsl"

    @property
    def digests(self) -> str:
        return f"{self.base}/digests/"

    @property
    def opml(self) -> str:
        return f"{self.base}/feeds.opml"

    def topic_feed(self, slug: str) -> str:
        return f"{self.base}/topics/{slug}.atom"

    def topic_json_feed(self, slug: str) -> str:
        return f"{self.base}/topics/{slug}.json"

    def reader_feed(self, token: str, kind: str) -> str:
        """A reader's private feed; ``kind`` is ``atom`` or ``json``."""
        return f"{self.base}/readers/{token}/feed.{kind}"

    def archive_feed(self, day: str) -> str:
        return f"{self.base}/archive/{day}.atom"

    def digest_page(self, day: str) -> str:
        return f"{self.base}/digests/{day}"

    def confirm(self, token: str) -> str:
        return f"{self.base}/confirm/{token}"

    def unsubscribe(self, token: str) -> str:
        return f"{self.base}/unsubscribe/{token}"

    def preferences(self, token: str) -> str:
        return f"{self.base}/preferences/{token}"

    def reader_copy(self, token: str) -> str:
        """A reader's own copy of one newsletter, as a page (see web.reader)."""
        return f"{self.base}/read/{token}"


@dataclass(frozen=True)
class DataFiles:
    """The files digest keeps under ``data_dir``."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "digest.db"

    @property
    def feed(self) -> Path:
        return self.root / "feed.atom"

    @property
    def feed_inputs(self) -> Path:
        """A digest of what ``feed.atom`` was rendered from: unchanged inputs, no re-render."""
        return self.root / "feed.atom.inputs"

    @property
    def feed_json(self) -> Path:
        return self.root / "feed.json"

    @property
    def stylesheet(self) -> Path:
        return self.root / "feed.xsl"

    @property
    def topics(self) -> Path:
        return self.root / "topics"

    def topic_feed(self, slug: str) -> Path:
        return self.topics / f"{slug}.atom"

    def topic_json_feed(self, slug: str) -> Path:
        return self.topics / f"{slug}.json"

    @property
    def secret_key(self) -> Path:
        return self.root / "secret.key"

    @property
    def next_run(self) -> Path:
        """When the schedule fires next, kept so ``digest status`` need not load APScheduler."""
        return self.root / "next-run.json"

    def under(self, path: Path) -> Path:
        """A configured path: absolute as given, else relative to the data directory."""
        return path if path.is_absolute() else self.root / path


def templates_dir(settings: Settings) -> Path | None:
    """The operator's template folder (``[site] templates_dir``), or None for the shipped ones."""
    folder = settings.site.templates_dir
    return Path(folder) if folder else None


def urls(settings: Settings) -> Urls:
    return Urls(str(settings.site.base_url).rstrip("/"))


def data_files(settings: Settings) -> DataFiles:
    return DataFiles(settings.data_dir)
