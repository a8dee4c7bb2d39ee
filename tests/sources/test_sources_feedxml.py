"""The lxml path reads plain Atom and RSS 2.0 exactly as feedparser does: equal Papers.

``feed.parse(payload, url)`` takes the lxml path (digest/sources/feedxml.py)
when the document is plain; ``fast=False`` is feedparser alone. Both must give
the same Papers on every recorded feed and on generated ones, whose entries
mix the cases the clean-up depends on: text or HTML or XHTML titles and
abstracts, links by rel and in any order, permalink guids, authors with
e-mail addresses, dates in other zones, mis-decoded UTF-8 and Windows-1252
code points.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest.errors import DigestError
from digest.sources import feed, feedxml

from ..conftest import FIXTURES, REPO

URL = "https://journal.example.org/feeds/latest"
RECORDED = sorted(FIXTURES.glob("*.xml")) + sorted((REPO / "examples").glob("*.rss"))
# Recorded feeds the lxml path must read itself (the others may fall back).
PLAIN = {"generic_atom_with_doi.xml", "third_party_hf_rss.xml", "arxiv-cs.LG.rss"}


def both(payload: bytes) -> tuple[object, object]:
    """(lxml path, feedparser) results: a Page or the error each raised."""
    results = []
    for fast in (True, False):
        try:
            results.append(feed.parse(payload, URL, fast=fast))
        except DigestError as error:
            results.append((type(error), str(error)))
    return results[0], results[1]


@pytest.mark.parametrize("path", RECORDED, ids=lambda path: path.name)
def test_recorded_feeds_give_the_same_papers_on_both_paths(path: Path) -> None:
    payload = path.read_bytes()
    fast, reference = both(payload)
    assert fast == reference
    if path.name in PLAIN:
        assert feedxml.read(payload) is not None, "the lxml path should read this feed itself"


def test_what_the_lxml_path_declines_goes_to_feedparser() -> None:
    declined = [
        b"<?xml version='1.0'?><rss version='0.91'><channel><item><title>T</title></item>"
        b"</channel></rss>",
        b"<?xml version='1.0' encoding='iso-8859-1'?><rss version='2.0'><channel><item>"
        b"<title>Caf\xe9</title></item></channel></rss>",
        b"<rss version='2.0'><channel><item><title>T</title><source url='https://x.org'>X"
        b"</source></item></channel></rss>",
        b"<rss version='2.0'><channel><item><title>T</title><pubDate>yesterday</pubDate>"
        b"</item></channel></rss>",
        b"<feed xmlns='http://www.w3.org/2005/Atom' xml:base='https://x.org/'><entry>"
        b"<title>T</title><link href='a'/></entry></feed>",
        b"<rss version='2.0'><channel><item><title>T</title><title>U</title></item>"
        b"</channel></rss>",
        b"<rss version='2.0'><channel><item><title>Unclosed</item></channel></rss>",
    ]
    for payload in declined:
        assert feedxml.read(payload) is None, payload
        fast, reference = both(payload)
        assert fast == reference


# --- generated feeds ---------------------------------------------------------------------

WORDS = st.sampled_from(
    ["graph", "Tomás", "naïve", "Über", "café", "Ã©t", "\x92quoted\x93", "a & b", "x < y",
     "R&amp;D", "—", "日本語", "  spaced  ", "e\u0301", "pre\u00adtrain", "1 > 0"]
)  # fmt: skip
TEXT = st.lists(WORDS, min_size=1, max_size=6).map(" ".join)
HTML = st.lists(
    st.tuples(st.sampled_from(["p", "b", "i", "em", "div", "br"]), TEXT), min_size=1, max_size=3
).map(lambda parts: "".join(f"<{tag}>{escape(text)}</{tag}>" for tag, text in parts))
ARXIV = st.sampled_from(["2503.01234", "2503.08123", "2412.00042"])
HREFS = st.one_of(
    ARXIV.map(lambda a: f"https://arxiv.org/abs/{a}"),
    ARXIV.map(lambda a: f"https://huggingface.co/papers/{a}"),
    st.sampled_from(["/articles/2025/7", "javascript:alert(1)", "https://doi.org/10.5555/X.1",
                     "http:///triple.example.org/p", "https://j.example.org/a?x=1&y=2"]),
)  # fmt: skip
IDS = st.one_of(
    HREFS, ARXIV.map(lambda a: f"oai:arXiv.org:{a}v2"), st.just("tag:j.example.org,2025:7")
)
MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
)
ZONES = st.sampled_from([0, 60, -300, 330])


@st.composite
def w3dtf(draw: st.DrawFn) -> str:
    moment = draw(MOMENTS).replace(microsecond=0)
    minutes = draw(ZONES)
    local = moment + timedelta(minutes=minutes)
    zone = "Z" if minutes == 0 and draw(st.booleans()) else _offset(minutes, ":")
    seconds = draw(st.sampled_from(["%S", "%S.123456", ""]))
    body = local.strftime("%Y-%m-%dT%H:%M" + (f":{seconds}" if seconds else ""))
    return body + zone


@st.composite
def rfc822(draw: st.DrawFn) -> str:
    moment = draw(MOMENTS)
    minutes = draw(ZONES)
    local = moment + timedelta(minutes=minutes)
    zone = draw(st.sampled_from(["GMT", "UT", "Z"])) if minutes == 0 else _offset(minutes, "")
    day = draw(st.sampled_from(["%a, ", ""]))
    time = draw(st.sampled_from(["%H:%M:%S", "%H:%M"]))
    return local.strftime(f"{day}%d %b %Y {time} ") + zone


def _offset(minutes: int, colon: str) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{colon}{abs(minutes) % 60:02d}"


@st.composite
def atom_text(draw: st.DrawFn, tag: str) -> str:
    kind = draw(st.sampled_from([None, "text", "html", "xhtml", "HTML", "text/plain"]))
    if kind == "xhtml":
        inner = draw(HTML)
        return (
            f'<{tag} type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{inner}</div></{tag}>'
        )
    value = draw(HTML) if kind in ("html", "HTML") else draw(TEXT)
    # The attribute spelt as feeds spell it, or with a capital (feedparser folds both).
    kind_attr = f' {draw(st.sampled_from(["type", "Type"]))}="{kind}"' if kind else ""
    return f"<{tag}{kind_attr}>{escape(value)}</{tag}>"


@st.composite
def atom_entry(draw: st.DrawFn) -> str:
    parts = [draw(atom_text("title"))] if draw(st.integers(0, 9)) else []
    if draw(st.booleans()):
        parts.append(draw(atom_text("summary")))
    if draw(st.booleans()):
        parts.append(draw(atom_text("content")))
    for _ in range(draw(st.integers(0, 3))):
        rel = draw(st.sampled_from([None, "alternate", "related", "self", "enclosure"]))
        kind = draw(st.sampled_from([None, "text/html", "application/pdf"]))
        attrs = f" href={quoteattr(draw(HREFS))}"
        attrs += f' rel="{rel}"' if rel else ""
        attrs += f' type="{kind}"' if kind else ""
        parts.append(f"<link{attrs}/>")
    if draw(st.booleans()):
        parts.append(f"<id>{escape(draw(IDS))}</id>")
    for _ in range(draw(st.integers(0, 3))):
        email = "<email>a@example.org</email>" if draw(st.booleans()) else ""
        parts.append(f"<author><name>{escape(draw(TEXT))}</name>{email}</author>")
    for tag in ("published", "updated"):
        if draw(st.booleans()):
            parts.append(f"<{tag}>{draw(w3dtf())}</{tag}>")
    for _ in range(draw(st.integers(0, 2))):
        parts.append(f"<category term={quoteattr(draw(TEXT))}/>")
    if draw(st.booleans()):
        parts.append("<prism:doi>10.5555/jeml.2025.0042</prism:doi>")
    if draw(st.booleans()):
        parts.append("<dc:identifier>doi:10.5555/JEML.2025.7</dc:identifier>")
    if draw(st.booleans()):
        parts.append("<rights>CC BY 4.0</rights>")
    return "<entry>" + "".join(draw(st.permutations(parts))) + "</entry>"


@st.composite
def rss_item(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.integers(0, 9)):
        parts.append(f"<title>{escape(draw(TEXT | HTML))}</title>")
    if draw(st.booleans()):
        body = draw(HTML | TEXT)
        parts.append(
            f"<description><![CDATA[{body}]]></description>" if draw(st.booleans())
            else f"<description>{escape(body)}</description>"
        )  # fmt: skip
    if draw(st.booleans()):
        parts.append(f"<content:encoded><![CDATA[{draw(HTML)}]]></content:encoded>")
    if draw(st.booleans()):
        parts.append(f"<link>{escape(draw(HREFS))}</link>")
    if draw(st.booleans()):
        permalink = draw(st.sampled_from(["", ' isPermaLink="false"', ' isPermaLink="true"',
                                          ' isPermaLink="True"']))  # fmt: skip
        parts.append(f"<guid{permalink}>{escape(draw(IDS))}</guid>")
    if draw(st.booleans()):
        parts.append(f"<pubDate>{draw(rfc822())}</pubDate>")
    if draw(st.booleans()):
        parts.append(f"<dc:date>{draw(w3dtf())}</dc:date>")
    for _ in range(draw(st.integers(0, 2))):
        author = draw(st.sampled_from(["a@example.org (Ada Lovelace)", "Grace Hopper",
                                       "Mina Okafor, Tomás Ruiz-Delgado", "b@example.org"]))  # fmt: skip
        tag = draw(st.sampled_from(["author", "dc:creator"]))
        parts.append(f"<{tag}>{escape(author)}</{tag}>")
    for _ in range(draw(st.integers(0, 2))):
        domain = ' domain="https://j.example.org/s"' if draw(st.booleans()) else ""
        parts.append(f"<category{domain}>{escape(draw(TEXT))}</category>")
    if draw(st.booleans()):
        parts.append('<enclosure url="https://j.example.org/a.pdf" type="application/pdf"/>')
    return "<item>" + "".join(draw(st.permutations(parts))) + "</item>"


NAMESPACES = (
    'xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
)


@st.composite
def atom_feed(draw: st.DrawFn) -> bytes:
    entries = "".join(draw(st.lists(atom_entry(), min_size=1, max_size=4)))
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" {NAMESPACES}><title>J</title>'
        f"<id>tag:j.example.org,2025:feed</id><updated>2025-03-12T06:00:00Z</updated>{entries}"
        "</feed>"
    ).encode()


@st.composite
def rss_feed(draw: st.DrawFn) -> bytes:
    items = "".join(draw(st.lists(rss_item(), min_size=1, max_size=4)))
    atom = ' xmlns:atom="http://www.w3.org/2005/Atom"' if draw(st.booleans()) else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" {NAMESPACES}{atom}>'
        f"<channel><title>J</title><link>https://j.example.org/</link>{items}</channel></rss>"
    ).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(atom_feed() | rss_feed())
def test_generated_feeds_give_the_same_papers_on_both_paths(payload: bytes) -> None:
    assert feedxml.read(payload) is not None, "a plain feed should take the lxml path"
    fast, reference = both(payload)
    assert fast == reference


def test_the_namespaces_read_without_feedparser_have_feedparsers_prefixes() -> None:
    import feedparser.api

    theirs = {
        uri.lower(): prefix for uri, prefix in feedparser.api.StrictFeedParser.namespaces.items()
    }
    for uri, prefix in feedxml._COMMON_PREFIXES.items():
        assert theirs[uri] == prefix, uri


@st.composite
def w3dtf_and_moment(draw: st.DrawFn) -> tuple[str, datetime]:
    moment = draw(MOMENTS).replace(microsecond=0)
    minutes = draw(ZONES)
    seconds = draw(st.sampled_from(["%S", "%S.1", "%S.1234567", ""]))
    moment = moment if seconds else moment.replace(second=0)
    local = moment + timedelta(minutes=minutes)
    zone = "Z" if minutes == 0 and draw(st.booleans()) else _offset(minutes, ":")
    body = local.strftime("%Y-%m-%dT%H:%M" + (f":{seconds}" if seconds else ""))
    return body + zone, moment


@given(w3dtf_and_moment())
def test_a_w3dtf_date_is_read_to_the_second_in_utc(case: tuple[str, datetime]) -> None:
    text, moment = case
    parsed = feedxml._parse_date(text)
    assert parsed == moment and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["2025-03-12T24:00:00Z", "2025-03-12T23:60:00Z", "2025-03-12T23:59:60Z",
     "2025-02-30T07:59:00Z", "0000-01-01T00:00:00Z", "2025-03-12T07:59:00+24:00",
     "2025-03-12 07:59:00Z", "2025-03-12T07:59:00"],
)  # fmt: skip
def test_a_date_outside_what_the_lxml_path_reads_goes_to_feedparser(text: str) -> None:
    with pytest.raises(feedxml.Unsupported):
        feedxml._parse_date(text)
