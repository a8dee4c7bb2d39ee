"""Small helpers shared by the tests: recorded pages and the headless Chromium set-up."""

from __future__ import annotations

import os
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
OUTPUT = Path(__file__).parent / "output"  # screenshots for review (git-ignored)
# axe-core's browser bundle, installed by .ci/run (npm install --prefix .ci axe-core).
AXE_JS = Path(
    os.environ.get(
        "AXE_CORE_JS", Path(__file__).parents[1] / ".ci/node_modules/axe-core/axe.min.js"
    )
)
# The Nu Html Checker (vnu.jar, run with java), installed by .ci/run (npm package vnu-jar).
VNU_JAR = Path(
    os.environ.get(
        "VNU_JAR", Path(__file__).parents[1] / ".ci/node_modules/vnu-jar/build/dist/vnu.jar"
    )
)

# Debian's chromium, never a downloaded browser; the flags keep it off the network
# (this machine's closed network refuses Chromium's background connections).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def fixture(name: str) -> bytes:
    """The bytes of a recorded page in tests/fixtures."""
    return (FIXTURES / name).read_bytes()
