"""What a library user may import: `digest.__all__`, equal to the list docs/architecture.md documents."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import digest

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def documented_names() -> set[str]:
    section = DOC.read_text().split("<!-- public-names:", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`digest\.(\w+)", section))


def test_all_is_the_documented_list() -> None:
    assert set(digest.__all__) == documented_names()


def test_every_public_name_imports() -> None:
    for name in digest.__all__:
        assert getattr(digest, name) is not None


def test_importing_digest_loads_none_of_its_stages() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, digest; print(sorted(m for m in sys.modules if m.startswith('digest')))"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert loaded.strip() == "['digest']"
