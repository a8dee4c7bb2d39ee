"""The newsletter, read back from its bytes with the stdlib parser a mail client would use."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import escape, unescape

import pytest

from digest.errors import ConfigError, PermanentDeliveryError
from digest.history.papers import record_sightings
from digest.model import Digest
from digest.render.entry import AI_SUMMARY_LABEL, paper_entry
from digest.render.mail import (
    MailMeta,
    Recipient,
    RenderedDigest,
    build_message,
    message_id_for,
    render_digest,
)
from digest.render.text import detex_accents, plain, shorten
from digest.sources.hf import parse_api
from tests.factories import FIRST_SEEN, make_digest, make_stored_paper
from tests.support import fixture

HF_API = "https://huggingface.co/api/daily_papers"

DAY = date(2025, 3, 12)
SENT = datetime(2025, 3, 12, 7, 30, tzinfo=UTC)
META = MailMeta(
    site_title="Paper digest",
    site_url="https://papers.example.org/",
    feed_url="https://papers.example.org/feed.atom",
    archive_url=None,
    from_address="Paper digest <digest@papers.example.org>",
    list_id="daily.papers.example.org",
    message_domain="papers.example.org",
)
ALICE = Recipient(
    address="alice@example.org",
    name="Alice Example",
    unsubscribe_url="https://papers.example.org/u/tok-1?a=1&b=2",
    unsubscribe_mailto="unsub+tok-1@papers.example.org",
    view_url="https://papers.example.org/read/tok-1",
    preferences_url="https://papers.example.org/preferences/tok-1",
)
LONG_ABSTRACT = ("Sparse routing with $k$ experts scales. " * 60)[:2000]


def send(
    digest: Digest,
    recipient: Recipient = ALICE,
    meta: MailMeta = META,
    reasons: dict[int, str] | None = None,
) -> EmailMessage:
    """Render, build and parse back from bytes, as the receiving side sees it."""
    rendered = render_digest(digest, meta, day=DAY, reasons=reasons)
    return parse(build(rendered, recipient, meta))


def build(rendered: RenderedDigest, recipient: Recipient = ALICE, meta: MailMeta = META) -> bytes:
    message_id = message_id_for(7, DAY, recipient.address, meta.message_domain)
    return build_message(rendered, recipient, meta, message_id=message_id, date=SENT).as_bytes()


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def bodies(message: EmailMessage) -> tuple[str, str]:
    text, html = (part.get_content() for part in message.iter_parts())
    return text, html


# --- headers -------------------------------------------------------------------


def test_every_header() -> None:
    message = send(make_digest(12))

    assert message["From"] == "Paper digest <digest@papers.example.org>"
    assert message["To"] == "Alice Example <alice@example.org>"
    assert message["Subject"] == "Paper digest \u2014 12 new papers, Wed 12 Mar 2025"
    assert message["Date"] == "Wed, 12 Mar 2025 07:30:00 +0000"
    assert re.fullmatch(
        r"<digest-20250312-7\.[0-9a-f]{16}@papers\.example\.org>", message["Message-ID"]
    )
    assert message["MIME-Version"] == "1.0"
    assert message["List-Id"] == "<daily.papers.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] == (
        "<https://papers.example.org/u/tok-1?a=1&b=2>, <mailto:unsub+tok-1@papers.example.org>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_non_ascii_subject_and_name_are_encoded_words_on_the_wire() -> None:
    meta = replace(META, site_title="Journal des idées")
    rendered = render_digest(make_digest(1), meta, day=DAY)
    raw = build(rendered, replace(ALICE, name="Zoë Müller"), meta)

    headers = raw.split(b"\n\n", 1)[0]
    assert headers.isascii()
    assert b"=?utf-8?" in headers  # RFC 2047
    message = parse(raw)
    assert message["Subject"] == "Journal des idées \u2014 1 new paper, Wed 12 Mar 2025"
    assert message["To"].addresses[0].display_name == "Zoë Müller"


def test_a_long_unsubscribe_url_stays_literal() -> None:
    url = "https://papers.example.org/unsubscribe/" + "t" * 150
    raw = build(render_digest(make_digest(1), META, day=DAY), replace(ALICE, unsubscribe_url=url))

    assert f"<{url}>".encode() in raw  # never RFC 2047-encoded, never split
    assert parse(raw)["List-Unsubscribe"].startswith(f"<{url}>, <mailto:")


def test_mailto_only_has_no_one_click_header() -> None:
    message = send(make_digest(1), replace(ALICE, unsubscribe_url=None))

    assert message["List-Unsubscribe"] == "<mailto:unsub+tok-1@papers.example.org>"
    assert message["List-Unsubscribe-Post"] is None  # RFC 8058 needs an HTTPS URI
    assert "mailto:unsub+tok-1@papers.example.org" in bodies(message)[0]


def test_plain_http_unsubscribe_url_gets_no_one_click_header() -> None:
    message = send(make_digest(1), replace(ALICE, unsubscribe_url="http://localhost:8000/u/x"))

    assert message["List-Unsubscribe"].startswith("<http://localhost:8000/u/x>")
    assert message["List-Unsubscribe-Post"] is None


def test_without_unsubscribe_targets_there_is_neither_header_nor_link() -> None:
    message = send(make_digest(1), Recipient(address="bob@example.org"))

    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None
    assert message["To"] == "bob@example.org"
    for body in bodies(message):
        assert "Unsubscribe" not in body
        assert "View in your browser" not in body
        assert "\ue000" not in body and "\ue001" not in body


def test_unsafe_unsubscribe_targets_are_config_errors() -> None:
    rendered = render_digest(make_digest(1), META, day=DAY)
    with pytest.raises(ConfigError, match="unsubscribe_url"):
        build(rendered, replace(ALICE, unsubscribe_url="javascript:alert(1)"))
    with pytest.raises(ConfigError, match="mailto"):
        build(rendered, replace(ALICE, unsubscribe_mailto="x@y.org>, <https://evil.example"))


# --- header injection ------------------------------------------------------------


def header_names(raw: bytes) -> list[str]:
    return [name.lower() for name in parse(raw)]


EXPECTED_HEADERS = [
    "from", "to", "subject", "date", "message-id", "mime-version", "list-id",
    "list-unsubscribe", "list-unsubscribe-post", "auto-submitted", "content-type",
]  # fmt: skip


def test_cr_lf_in_a_display_name_does_not_create_headers() -> None:
    evil = replace(ALICE, name="Eve\r\nBcc: victim@example.org\r\n\r\n<b>hi</b>")
    raw = build(render_digest(make_digest(1), META, day=DAY), evil)

    assert header_names(raw) == EXPECTED_HEADERS
    assert parse(raw)["To"].addresses[0].display_name == "Eve Bcc: victim@example.org <b>hi</b>"
    assert "Eve Bcc: victim@example.org &lt;b&gt;hi&lt;/b&gt;" in bodies(parse(raw))[1]


def test_cr_lf_in_a_subject_does_not_create_headers() -> None:
    meta = replace(META, site_title="Digest\r\nBcc: victim@example.org")
    rendered = render_digest(make_digest(1), meta, day=DAY)
    forged = replace(rendered, subject="Digest\nBcc: victim@example.org\n\nbody")

    for candidate in (rendered, forged):
        raw = build(candidate, ALICE, META)
        assert header_names(raw) == EXPECTED_HEADERS
        assert "\n" not in parse(raw)["Subject"]


def test_address_must_be_exactly_one_addr_spec() -> None:
    rendered = render_digest(make_digest(1), META, day=DAY)
    for address in ("alice@example.org\r\nBcc: victim@example.org", "a@x.org, b@y.org"):
        with pytest.raises(PermanentDeliveryError):
            build(rendered, replace(ALICE, address=address))


def test_settings_with_line_breaks_are_config_errors() -> None:
    rendered = render_digest(make_digest(1), META, day=DAY)
    with pytest.raises(ConfigError, match="from_address"):
        build(rendered, ALICE, replace(META, from_address="a@b.org\r\nBcc: c@d.org"))
    with pytest.raises(ConfigError, match="list_id"):
        build(rendered, ALICE, replace(META, list_id="x\nBcc: c@d.org"))


# --- structure, encoding, size -----------------------------------------------------


def test_multipart_alternative_text_first_then_html_both_utf8_quoted_printable() -> None:
    message = send(make_digest(3))

    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    for part in parts:
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
        assert part["MIME-Version"] is None


def test_the_same_input_builds_the_same_bytes() -> None:
    rendered = render_digest(make_digest(5), META, day=DAY)

    assert build(rendered) == build(render_digest(make_digest(5), META, day=DAY))


def test_no_line_exceeds_998_octets_even_with_a_giant_word() -> None:
    giant = "x" * 3000 + "é" * 600
    digest = make_digest(2, abstract=f"See {giant} for details.", title=giant)

    raw = build(render_digest(digest, META, day=DAY))

    assert max(len(line) for line in raw.split(b"\n")) <= 998
    text, _ = bodies(parse(raw))
    assert max(len(line.encode()) for line in text.split("\n")) <= 998


def test_thirty_long_papers_stay_under_100_kb() -> None:
    papers = tuple(
        make_stored_paper(
            id=i,
            title=f"Scaling sparse mixtures of experts with annealed load balancing, part {i}",
            abstract=LONG_ABSTRACT,
            authors=tuple(f"Firstname Lastname{j}" for j in range(12)),
            author_count=12,
        )
        for i in range(1, 31)
    )
    digest = Digest(id=7, created=FIRST_SEEN, papers=papers)
    reasons = {i: "matches your topic \u201cmixture of experts\u201d" for i in range(1, 31)}

    raw = build(render_digest(digest, META, day=DAY, reasons=reasons))

    assert len(raw) < 100_000  # Gmail clips a message near 102 KB (docs/standards.md §1.5)


# --- content -------------------------------------------------------------------------


def test_past_max_papers_the_rest_is_one_link() -> None:
    digest = make_digest(40)

    rendered = render_digest(digest, replace(META, max_papers=30), day=DAY)

    assert (rendered.shown, rendered.more) == (30, 10)
    text, html = bodies(parse(build(rendered)))
    # "and N more" opens the reader's own copy at the first paper the mail left out.
    assert "and 10 more: https://papers.example.org/read/tok-1#paper-31" in text
    assert "\n30. Sparse Experts at Scale, Part 30\n" in text
    assert "Part 31" not in text and "Part 31" not in html
    assert re.search(
        r'href="https://papers.example.org/read/tok-1#paper-31"[^>]*>and 10 more', html
    )
    assert "40 new papers" in rendered.subject


def test_without_a_browser_copy_more_links_to_the_archive() -> None:
    meta = replace(META, max_papers=2, archive_url="https://papers.example.org/archive/")

    text, html = bodies(send(make_digest(5), replace(ALICE, view_url=None), meta=meta))

    assert "and 3 more: https://papers.example.org/archive/" in text
    assert 'href="https://papers.example.org/archive/"' in html


def test_both_parts_carry_unsubscribe_preferences_view_link_and_the_recipient() -> None:
    text, html = bodies(send(make_digest(2)))

    assert "Unsubscribe: https://papers.example.org/u/tok-1?a=1&b=2" in text
    assert "Manage preferences: https://papers.example.org/preferences/tok-1" in text
    assert "View in your browser: https://papers.example.org/read/tok-1" in text
    assert "Sent to Alice Example at alice@example.org" in text
    # A URL filled into an attribute is HTML-escaped (& -> &amp;).
    assert 'href="https://papers.example.org/u/tok-1?a=1&amp;b=2"' in html
    assert re.search(r'href="https://papers.example.org/preferences/tok-1"[^>]*>Manage', html)
    assert 'href="https://papers.example.org/read/tok-1"' in html
    assert "Alice Example at alice@example.org" in html


def test_script_is_escaped_in_html_and_verbatim_in_text() -> None:
    paper = make_stored_paper(
        title="<script>alert('x')</script> Attention",
        abstract='<img src=x onerror="alert(1)"> results',
        authors=("<b>Mallory</b>",),
    )
    text, html = bodies(send(Digest(id=1, created=FIRST_SEEN, papers=(paper,))))

    assert "<script" not in html and "<img" not in html and "<b>Mallory" not in html
    assert "&lt;script&gt;alert('x')&lt;/script&gt; Attention" in html
    assert "<script>alert('x')</script> Attention" in text
    assert "<b>Mallory</b>" in text


def test_a_paper_cannot_forge_a_slot() -> None:
    forged = "\ue000slot:unsubscribe\ue001 and \ue000if:view\ue001"
    paper = make_stored_paper(
        title=f"Title {forged}", abstract=forged, arxiv_id=None, url=f"https://x.org/{forged}"
    )
    rendered = render_digest(Digest(id=1, created=FIRST_SEEN, papers=(paper,)), META, day=DAY)

    text, html = bodies(parse(build(rendered)))

    assert "Title slot:unsubscribe and if:view" in text
    # Only the reader's own links (view, preferences, unsubscribe) carry their token.
    assert text.count("tok-1") == 3 and html.count("tok-1") == 3
    assert text.count("/u/tok-1") == 1 and html.count("/u/tok-1") == 1


def test_tex_stays_readable_text() -> None:
    paper = make_stored_paper(
        title=r"On $k$-means for Jos\'e's data",
        abstract=r"We bound $\mathcal{O}(n^2)$ for G{\"o}del numbers with \c{c}a va.",
        authors=(r"Jos\'e Garc\'{\i}a", r"Kurt G\"odel"),
    )
    text, html = bodies(send(Digest(id=1, created=FIRST_SEEN, papers=(paper,))))

    for body in (text, html):
        assert "On $k$-means for José's data" in body
        assert r"$\mathcal{O}(n^2)$ for Gödel numbers with ça va." in body
        assert "José García and Kurt Gödel" in body
    assert "MathJax" not in html and "<script" not in html


def test_text_part_is_numbered_wrapped_with_links_on_their_own_line() -> None:
    digest = make_digest(2, abstract=LONG_ABSTRACT)

    text, _ = bodies(send(digest, reasons={2: "matches 'experts'"}))

    assert "\n1.  Sparse Experts at Scale, Part 1\n" in text
    assert "\n    arXiv:  https://arxiv.org/abs/2503.00002\n" in text
    assert "\n    PDF:    https://arxiv.org/pdf/2503.00002\n" in text
    # The reason is said once, in the meta line, after what it does not already say.
    assert "\n    Example Lab · 42 upvotes · cs.LG · matches 'experts'\n" in text
    assert "Why" not in text
    assert "\n    Ada Lovelace, Alan Turing, Grace Hopper\n" in text
    # The TL;DR is the abstract's first two sentences, not the whole of it.
    assert "\n    Sparse routing with $k$ experts scales. Sparse routing with $k$\n" in text
    assert text.count("Sparse routing") == 4
    prose = [line for line in text.split("\n") if "://" not in line]
    assert max(map(len, prose)) <= 72


def test_html_shows_a_heading_per_paper_a_meta_line_tldr_and_links() -> None:
    paper = make_stored_paper(abstract=LONG_ABSTRACT, authors=(), author_count=17)
    _, html = bodies(send(Digest(id=1, created=FIRST_SEEN, papers=(paper,)), reasons={1: "why"}))

    assert re.search(
        r'<h2 [^>]*id="paper-1"[^>]*><a href="https://arxiv.org/abs/2503.00001"[^>]*>Sparse', html
    )
    # A bare count is a fact of the meta line, never an author name.
    assert re.search(r">Example Lab · 17 authors · 42 upvotes · cs.LG · why</p>", html)
    assert "Why" not in html and "Read more" not in html
    for label in ("arXiv", "PDF", "Hugging Face"):
        assert re.search(rf"<a [^>]*>{label}</a>", html)
    assert "<style" in html and "@media" in html  # only the media queries stay in <style>
    assert 'style="' in html  # the rest is inlined


def test_an_empty_digest_says_so() -> None:
    rendered = render_digest(Digest(id=1, created=FIRST_SEEN), META, day=DAY)

    assert rendered.subject == "Paper digest \u2014 no new papers, Wed 12 Mar 2025"
    assert (rendered.shown, rendered.more) == (0, 0)
    assert "No new papers today" in rendered.text and "No new papers today" in rendered.html


def test_message_id_is_deterministic_and_per_recipient() -> None:
    first = message_id_for(7, DAY, "alice@example.org", "papers.example.org")

    assert first == message_id_for(7, DAY, "Alice@Example.org ", "papers.example.org")
    assert first != message_id_for(7, DAY, "bob@example.org", "papers.example.org")
    assert re.fullmatch(r"<digest-20250312-7\.[0-9a-f]{16}@papers\.example\.org>", first)
    with pytest.raises(ConfigError):
        message_id_for(7, DAY, "a@b.org", "bad domain>")


def test_a_malformed_message_id_is_refused() -> None:
    rendered = render_digest(make_digest(1), META, day=DAY)
    with pytest.raises(ValueError, match="Message-ID"):
        build_message(rendered, ALICE, META, message_id="no-brackets@x\r\nBcc: y", date=SENT)


# --- text helpers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tex", "expected"),
    [
        (r"Jos\'e", "José"),
        (r"G{\"o}del", "Gödel"),
        (r"\c{C}elik \c c", "Çelik ç"),
        (r"Garc\'{\i}a", "García"),
        (r"\v{S}koda \u{a}", "Škoda ă"),
        (r"$\cite{x}$ \rho \'", r"$\cite{x}$ \rho \'"),
        ("$k$-means", "$k$-means"),
    ],
)
def test_detex_accents(tex: str, expected: str) -> None:
    assert detex_accents(tex) == expected


def test_plain_drops_controls_and_collapses_whitespace() -> None:
    assert plain("a\x00b\r\n c\x1b\ue000d\u2028e") == "ab cd e"
    assert plain(None) == ""


def test_shorten_cuts_at_a_word_boundary() -> None:
    assert shorten("one two three", 100) == "one two three"
    assert shorten("one two, three", 9) == "one two…"
    assert shorten("x" * 50, 10) == "x" * 10 + "…"


# --- both parts carry the same facts and links -----------------------------------------


def _links(body: str, *, html: bool) -> set[str]:
    if html:
        return {unescape(url) for url in re.findall(r'href="([^"]+)"', body)}
    return set(re.findall(r"https?://\S+", body))


def test_every_paper_has_its_tldr_and_links_in_both_parts() -> None:
    papers = (
        make_stored_paper(id=1, abstract=LONG_ABSTRACT),
        make_stored_paper(id=2, arxiv_id=None, url="https://journal.example.org/a/2", doi="10.1/b"),
        make_stored_paper(
            id=3,
            abstract="Short. Very short.",
            sources=("https://huggingface.co/api/daily_papers",),
            url=None,
        ),
    )
    digest = Digest(id=1, created=FIRST_SEEN, papers=papers)
    text, html = bodies(send(digest, reasons={1: "matches “experts”"}))
    flat_text, flat_html = " ".join(text.split()), " ".join(unescape(html).split())

    for number, paper in enumerate(papers, 1):
        entry = paper_entry(number, paper)
        assert entry.tldr and entry.tldr in flat_text and entry.tldr in flat_html
        for link in entry.links:
            assert link.url in text, (number, link)
            assert f'href="{escape(link.url)}"' in html, (number, link)
    # One link set for both parts (spam filters score a mismatch, e.g. rspamd URI_COUNT_ODD).
    assert _links(text, html=False) == _links(html, html=True)


def test_abstract_full_shows_the_whole_abstract_and_none_shows_none() -> None:
    digest = Digest(id=1, created=FIRST_SEEN, papers=(make_stored_paper(abstract=LONG_ABSTRACT),))
    full_text, full_html = bodies(send(digest, meta=replace(META, abstract="full")))
    none_text, none_html = bodies(send(digest, meta=replace(META, abstract="none")))

    whole = " ".join(plain(LONG_ABSTRACT).split())
    assert whole in " ".join(full_text.split()) and whole in " ".join(full_html.split())
    assert "Sparse routing" not in none_text and "Sparse routing" not in none_html


# --- a recorded Hugging Face day: the TL;DR and the links the API gives ---------------


def test_a_recorded_hf_day_shows_hfs_tldr_and_code_project_links_in_both_parts(
    db: sqlite3.Connection,
) -> None:
    page = parse_api(fixture("hf_daily_papers_2025-03-12.json"), HF_API)
    result = record_sightings(
        db, page.papers, source=HF_API, run_id=None, now=SENT, tag_authority="example.org"
    )
    digest = Digest(id=1, created=FIRST_SEEN, papers=result.novel)
    text, html = bodies(send(digest))
    flat_text, flat_html = " ".join(text.split()), " ".join(unescape(html).split())

    replay = next(p for p in result.novel if p.arxiv_id == "2503.08123")
    entry = paper_entry(1, replay)
    assert entry.tldr_label == AI_SUMMARY_LABEL
    assert entry.tldr == (
        "Sparse replay buffers recover most of the forgetting gap in continual instruction tuning."
    )
    assert f"{AI_SUMMARY_LABEL}: {entry.tldr}" in flat_text
    assert re.search(
        rf"<b[^>]*>{re.escape(AI_SUMMARY_LABEL)}:</b> {re.escape(entry.tldr)}", flat_html
    )
    assert [(link.label, link.url) for link in entry.links] == [
        ("arXiv", "https://arxiv.org/abs/2503.08123"),
        ("PDF", "https://arxiv.org/pdf/2503.08123"),
        ("Hugging Face", "https://huggingface.co/papers/2503.08123"),
        ("Code (\u2605 128)", "https://github.com/example-lab/sparse-replay"),
        ("Project", "https://sparse-replay.github.io"),
    ]
    for paper in result.novel:
        for link in paper_entry(1, paper).links:
            assert link.url in text and f'href="{escape(link.url)}"' in html
            assert re.search(rf">{re.escape(escape(link.label))}</a>", html)
    assert _links(text, html=False) == _links(html, html=True)
