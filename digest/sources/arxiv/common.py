"""What the arXiv parsers share: XML namespaces, the abstract-page URL, and safe XML reading.

The API and the feeds are XML read with the standard library's ElementTree,
namespace-aware and typed: feedparser would treat the RSS ``description`` as
HTML and eat abstracts such as "for all x<y and y>z" (arXiv escapes the
abstract as text), and ElementTree resolves no external entities (expat >= 2.4
also caps entity expansion), which is what untrusted input needs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ...errors import ParseError

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
DC = "{http://purl.org/dc/elements/1.1/}"

_XML_START = re.compile(rb"^\s*<(?:\?xml|rss|feed|rdf:RDF)\b")


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def is_xml(payload: bytes) -> bool:
    return _XML_START.match(payload.removeprefix(b"\xef\xbb\xbf")[:512]) is not None


def xml_root(payload: bytes, url: str, expected: str) -> ET.Element:
    if not payload.strip():
        raise ParseError(f"empty payload, expected {expected}", source=url)
    try:
        return ET.fromstring(payload)
    except ET.ParseError as error:
        raise ParseError(
            f"not well-formed XML ({error}), expected {expected}", source=url
        ) from None


def child_text(element: ET.Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "") if found is not None else ""
