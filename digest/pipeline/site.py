"""The public face of a deployment, derived from settings: feed and mail identities, the token signer.

URLs and file names come from :mod:`digest.locations`. The mail's and the
tokens' modules are imported by the functions that need them: queuing mail
and reading a feed need only the addresses (docs/architecture.md, "Start-up:
what a command loads").
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..config import Settings
from ..locations import data_files, templates_dir, urls
from ..render.feed import FeedMeta

if TYPE_CHECKING:
    from ..render.mail import MailMeta
    from ..tokens import Tokens


def site_host(settings: Settings) -> str:
    return urlsplit(urls(settings).base).hostname or "localhost"


def tag_authority(settings: Settings) -> str:
    """The RFC 4151 tagging entity for papers known only by title (frozen into ids at first sight)."""
    return site_host(settings)


def feed_meta(settings: Settings) -> FeedMeta:
    url = urls(settings).base
    return FeedMeta(
        title=settings.site.title,
        feed_id=urls(settings).feed,
        self_url=urls(settings).feed,
        site_url=f"{url}/",
        author_name=settings.site.title,
        subtitle="New research papers, each announced once.",
        hub_url=settings.site.websub_hub or None,
        language=settings.site.language,
        json_url=urls(settings).feed_json,
        # Absolute: a browser applies an XSLT only from the feed's own origin, which this is.
        stylesheet_url=urls(settings).stylesheet,
    )


def mail_domain(settings: Settings) -> str:
    address = parseaddr(settings.mail.from_address)[1]
    return address.rpartition("@")[2] or site_host(settings)


def mail_meta(settings: Settings) -> MailMeta:
    from ..render.mail import MailMeta

    url = urls(settings).base
    return MailMeta(
        site_title=settings.site.title,
        site_url=f"{url}/",
        feed_url=urls(settings).feed,
        archive_url=urls(settings).digests,
        from_address=settings.mail.from_address,
        list_id=f"daily.papers.{site_host(settings)}",
        message_domain=mail_domain(settings),
        max_papers=settings.mail.max_papers,
        templates_dir=templates_dir(settings),
        abstract=settings.mail.abstract,
    )


def envelope_sender(settings: Settings) -> str:
    return parseaddr(settings.mail.from_address)[1]


def site_tokens(settings: Settings) -> Tokens:
    """Token signer with the configured secret, or the one generated into the data folder."""
    from ..tokens import Tokens, load_secret

    return Tokens(load_secret(settings.site.secret, data_files(settings).secret_key))
