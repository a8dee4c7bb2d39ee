"""Config mistakes said in words: a near-miss key, a misspelled URL scheme, a TOML syntax error.

tomllib reports "Invalid value (at line 3, column 7)"; an operator who wrote
``url = https://…`` needs to read "a URL must be quoted". Each function here
turns one kind of mistake into a sentence that says what to write instead.

Only a mistake needs difflib, and only a config file tomllib: both are imported
where they are used, so a command run without a file loads neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    import tomllib

URL_SCHEMES = ("http", "https", "file")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """ "did you mean 'from_address'?" for the closest known name, or the list when none is close."""
    import difflib

    choices = sorted(set(known))
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"known: {', '.join(choices)}"


def check_url_scheme(url: str, where: str) -> None:
    """``htps://…`` is a typo, not a file named "htps:": say which scheme is wrong."""
    match = _SCHEME.match(url)
    if match is None or match.group(1).lower() in URL_SCHEMES:
        return
    import difflib

    scheme = match.group(1)
    close = difflib.get_close_matches(scheme.lower(), URL_SCHEMES, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}://?" if close else "use http:// or https:// (or a path)"
    raise ConfigError(f"url = {url!r}: unknown scheme {scheme!r}: {hint}", where=where)


def toml_error(error: tomllib.TOMLDecodeError, text: str, where: str) -> ConfigError:
    """The error as a sentence with its line: "line 3: a URL must be quoted: url = "https://…"."""
    message = str(error)
    position = re.search(r"\(at line (\d+), column \d+\)", message)
    raw = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
    line = int(position.group(1)) if position else _unbalanced_line(text)
    source = text.splitlines()[line - 1] if line and line <= len(text.splitlines()) else ""
    words = _in_words(raw, source)
    said = f"not valid TOML at line {line}: {words}" if line else f"not valid TOML: {words}"
    if words != raw:
        said += f" (tomllib: {raw})"
    return ConfigError(said, where=f"{where}:{line}" if line else where)


def _in_words(raw: str, source: str) -> str:
    value = source.partition("=")[2].strip()
    if raw == "Invalid value" and not value:
        return f"{source.partition('=')[0].strip()} has no value: write key = value"
    if raw == "Invalid value" and "://" in value:
        return f'a URL must be quoted: {source.partition("=")[0].strip()} = "{value}"'
    if raw == "Invalid value" and value[:1].isalpha():
        return f'text must be quoted: {source.partition("=")[0].strip()} = "{value}"'
    if raw.startswith(("Illegal character '\\n'", "Unterminated string", 'Expected "\'"')):
        return "unclosed string: the closing quote is missing"
    if raw.startswith("Cannot overwrite a value"):
        return f"{source.partition('=')[0].strip() or 'a key'!s} is set twice"
    if raw.startswith("Cannot declare"):
        return "a table is declared twice"
    if raw.startswith("Expected ']' at the end of a table declaration"):
        return "unclosed table name: the closing ] is missing"
    if raw.startswith("Unclosed array"):
        return "unclosed list: the closing ] is missing"
    if raw.startswith("Unclosed inline table"):
        return "unclosed inline table: the closing } is missing"
    if raw.startswith("Expected '=' after a key"):
        return "a key without a value: write key = value"
    if raw.startswith("Expected newline or end of document after a statement"):
        return "unexpected text after the value (quote text, one setting per line)"
    return raw


def _unbalanced_line(text: str) -> int:
    """For errors "at end of document": the first line whose quotes do not pair up."""
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0] if line.count('"') % 2 == 0 else line
        if code.count('"') % 2 or code.count("'") % 2:
            return number
    return 0
