"""Small helpers shared by the tests: recorded pages and the headless Chromium set-up."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

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


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on ``page`` (a skip when axe-core is absent)."""
    if not AXE_JS.exists():
        pytest.skip(f"axe-core is not installed at {AXE_JS} (.ci/run installs it with npm)")
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        where: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]
