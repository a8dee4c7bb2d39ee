"""The public face of a deployment, derived from settings: URLs, feed and mail identities."""

from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit

from .config import Settings
from .render.feed import FeedMeta
from .render.mail import MailMeta
from .tokens import Tokens, load_secret


def base_url(settings: Settings) -> str:
    return str(settings.get("site", "base_url")).rstrip("/")


def site_host(settings: Settings) -> str:
    return urlsplit(base_url(settings)).hostname or "localhost"


def tag_authority(settings: Settings) -> str:
    """The RFC 4151 tagging entity for papers known only by title (frozen into ids at first sight)."""
    return site_host(settings)


def feed_meta(settings: Settings) -> FeedMeta:
    url = base_url(settings)
    return FeedMeta(
        title=settings.get("site", "title"),
        feed_id=f"{url}/feed.atom",
        self_url=f"{url}/feed.atom",
        site_url=f"{url}/",
        author_name=settings.get("site", "title"),
        subtitle="New research papers, each announced once.",
        hub_url=settings.get("site", "websub_hub") or None,
    )


def mail_domain(settings: Settings) -> str:
    address = parseaddr(settings.get("mail", "from_address"))[1]
    return address.rpartition("@")[2] or site_host(settings)


def mail_meta(settings: Settings) -> MailMeta:
    url = base_url(settings)
    return MailMeta(
        site_title=settings.get("site", "title"),
        site_url=f"{url}/",
        feed_url=f"{url}/feed.atom",
        archive_url=f"{url}/digests/",
        from_address=settings.get("mail", "from_address"),
        list_id=f"daily.papers.{site_host(settings)}",
        message_domain=mail_domain(settings),
        max_papers=settings.get("mail", "max_papers"),
    )


def envelope_sender(settings: Settings) -> str:
    return parseaddr(settings.get("mail", "from_address"))[1]


def site_tokens(settings: Settings) -> Tokens:
    """Token signer with the configured secret, or the one generated into the data folder."""
    return Tokens(load_secret(settings.get("site", "secret"), settings.data_dir))
