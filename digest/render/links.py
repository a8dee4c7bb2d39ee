"""Which links the render stage emits: only absolute http(s) URLs, and one per paper.

Sources hand us URLs we do not control. A ``javascript:`` or ``data:`` link in a
feed reader or a mail client is a script run in the reader's name, and a
relative link resolves against whatever page shows it, so both are dropped.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode, urlsplit

from ..errors import ConfigError
from ..model import StoredPaper

# Whitespace, C0/C1 controls, the characters that end a URL in the places we
# put one (`<...>` in List-Unsubscribe, RFC 2369 §2; quoted HTML attributes), and
# the private-use area, which the mail renderer reserves for its slot markers.
_UNSAFE_URL_CHARS = re.compile(r'[\s\x00-\x1f\x7f-\x9f<>"\\`\ue000-\uf8ff]')
_ALLOWED_SCHEMES = frozenset({"http", "https"})


def safe_http_url(url: str | None) -> str | None:
    """Return ``url`` stripped when it is an absolute http(s) URL with a host, else None.

    >>> safe_http_url("  https://arxiv.org/abs/2401.01234 ")
    'https://arxiv.org/abs/2401.01234'
    >>> safe_http_url("javascript:alert(1)") is None
    True
    """
    if url is None:
        return None
    candidate = url.strip()
    if not candidate or _UNSAFE_URL_CHARS.search(candidate):
        return None
    try:
        parts = urlsplit(candidate)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced IPv6 bracket: "http://[::1"
        return None
    if parts.scheme.lower() not in _ALLOWED_SCHEMES or not host:
        return None
    return candidate


def config_url(url: str, key: str) -> str:
    """An absolute http(s) URL from the settings, or a ConfigError naming the setting."""
    safe = safe_http_url(url)
    if safe is None:
        raise ConfigError(f"{url!r} is not an absolute http(s) URL", where=key)
    return safe


def paper_link(paper: StoredPaper) -> str:
    """The one link a reader follows: arXiv abs page, the source's page, DOI, or a search.

    The arXiv abs page comes first because it is version-less and permanent; the
    Hugging Face search is the last resort so that every paper has a link (Slack's
    reader rejects entries without one, docs/readers.md §11).
    """
    if paper.arxiv_id:
        return f"https://arxiv.org/abs/{quote(paper.arxiv_id)}"
    own = safe_http_url(paper.url)
    if own is not None:
        return own
    if paper.doi:
        return f"https://doi.org/{quote(paper.doi)}"
    return "https://huggingface.co/papers?" + urlencode({"q": paper.title})
