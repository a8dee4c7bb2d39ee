"""The bulk path sends, per reader, what build_message would: same headers, same decoded parts.

The newsletter serialises a digest once (render/bulk.py) and only encodes each
reader's own values. Read back with the stdlib parser, every reader's message
must equal build_message's field by field and part by part; only the places
where quoted-printable lines break may differ.
"""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.errors import PermanentDeliveryError
from digest.render.bulk import BulkMessage, _fold, fold_message_id, fold_to
from digest.render.headers import checked_message_id
from digest.render.mail import Recipient, RenderedDigest, build_message, render_digest
from tests.factories import make_digest
from tests.render.test_render_mail import ALICE, DAY, META, SENT

READERS = [
    ALICE,
    Recipient(address="bob@example.org"),  # the operator's copy: no name, no unsubscribe link
    Recipient(
        address="c@example.org",
        name="Zoë Ångström-Æther",
        view_url=ALICE.view_url,
        unsubscribe_url=ALICE.unsubscribe_url,
    ),
    Recipient(address="d@example.org", name='Dr. "Quoted", Jr.', unsubscribe_mailto="u@x.org"),
    Recipient(
        address="e@example.org",
        name="A very long display name " * 6,
        unsubscribe_url="https://papers.example.org/unsubscribe/" + "T" * 180,
        view_url=ALICE.view_url,
    ),
    Recipient(
        address="f@example.org",
        name="<b>&amp; ' \"</b>",
        unsubscribe_url="http://papers.example.org/u?a=1&b=2",
    ),
    Recipient(address="g@example.org", name="x" * 2000, view_url=ALICE.view_url),  # past 998
]


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def reference(rendered: RenderedDigest, recipient: Recipient, message_id: str) -> bytes:
    message = build_message(rendered, recipient, META, message_id=message_id, date=SENT)
    return message.as_bytes(policy=policy.SMTP)


@pytest.fixture(scope="module")
def rendered() -> RenderedDigest:
    return render_digest(make_digest(30), META, day=DAY)


@pytest.mark.parametrize("recipient", READERS, ids=lambda r: r.address)
def test_each_reader_gets_what_build_message_makes(
    rendered: RenderedDigest, recipient: Recipient
) -> None:
    bulk = BulkMessage(rendered, META, date=SENT)
    message_id = f"<digest-20250312-7.{recipient.address.split('@')[0]}@papers.example.org>"
    ours, theirs = (
        parse(bulk.bytes_for(recipient, message_id=message_id)),
        parse(reference(rendered, recipient, message_id)),
    )
    assert list(ours.items()) == list(theirs.items())
    assert ours.get_boundary() == theirs.get_boundary()
    our_parts, their_parts = list(ours.iter_parts()), list(theirs.iter_parts())
    assert [p.get_content_type() for p in our_parts] == ["text/plain", "text/html"]
    for mine, reference_part in zip(our_parts, their_parts, strict=True):
        assert list(mine.items()) == list(reference_part.items())
        assert mine.get_content() == reference_part.get_content()
    assert not ours.defects and all(not part.defects for part in our_parts)


def test_wire_lines_stay_short_and_links_whole(rendered: RenderedDigest) -> None:
    bulk = BulkMessage(rendered, META, date=SENT)
    raw = bulk.bytes_for(ALICE, message_id="<digest-1.a@papers.example.org>")
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only, as SMTP wants
    # Each reader's link starts a wire line and is not cut by a soft break.
    assert b"\r\nhttps://papers.example.org/u/tok-1?a=3D1&b=3D2=\r\n" in body


def test_the_digest_is_encoded_once_per_shape(rendered: RenderedDigest) -> None:
    bulk = BulkMessage(rendered, META, date=SENT)
    for number in range(50):
        reader = replace(ALICE, address=f"r{number}@example.org", name=f"Reader {number}")
        bulk.bytes_for(reader, message_id=f"<m{number}@papers.example.org>")
    assert len(bulk._shapes) == 1


def test_header_injection_is_still_refused(rendered: RenderedDigest) -> None:
    bulk = BulkMessage(rendered, META, date=SENT)
    evil = Recipient(address="a@example.org\r\nBcc: victim@example.org")
    with pytest.raises(PermanentDeliveryError):
        bulk.bytes_for(evil, message_id="<m@papers.example.org>")
    with pytest.raises(ValueError):
        bulk.bytes_for(ALICE, message_id="<m@x>\r\nBcc: victim@example.org")
    named = parse(
        bulk.bytes_for(
            replace(ALICE, name="Eve\r\nBcc: x@y.z"), message_id="<m@papers.example.org>"
        )
    )
    assert named["Bcc"] is None and "Eve Bcc: x@y.z" in str(named["To"])


# --- the direct path for plain To and Message-ID fields -------------------------------

_NAMES = st.one_of(
    st.just(""),
    st.from_regex(r"[A-Za-z0-9]{1,12}( [A-Za-z0-9]{1,12}){0,3}", fullmatch=True),
    st.text(max_size=40),  # quotes, commas, dots, non-ASCII, spaces: the email package's way
)
_ADDRESSES = st.from_regex(r"[a-z0-9._+-]{1,30}@[a-z0-9-]{1,20}(\.[a-z]{2,8}){1,2}", fullmatch=True)


@given(name=_NAMES, spec=_ADDRESSES)
def test_a_plain_to_field_is_written_as_the_email_package_writes_it(name: str, spec: str) -> None:
    try:
        address = Address(display_name=name, addr_spec=spec)
    except (ValueError, IndexError):  # not an address the email package takes
        return
    assert fold_to(address) == _fold("To", address)


@given(
    st.one_of(
        st.from_regex(r"<[a-z0-9.]{1,70}@[a-z0-9-]{1,20}(\.[a-z]{2,8}){1,2}>", fullmatch=True),
        st.from_regex(r"<[!-~]{1,60}@[!-~]{1,30}>", fullmatch=True),
    )
)
def test_a_message_id_is_written_as_the_email_package_writes_it(message_id: str) -> None:
    try:
        checked = checked_message_id(message_id)
    except ValueError:  # never reaches the header: the message is refused before
        return
    assert fold_message_id(checked) == _fold("Message-ID", checked)
