"""The two programs under test, each started as a child process of the bench.

``DigestHome`` is a data folder driven through the real ``digest`` command line
(``python -m digest``), exactly as cron would run it. ``Rss2emailHome`` is an
rss2email 3.14 configuration driven through its ``r2e`` command, installed by
:func:`install_rss2email` into a virtual environment of its own under the
bench's work folder (reused by later runs; the rss2email column is left out
with the reason when the install fails, e.g. without network in CI).
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from .measure import Child, Sample

RSS2EMAIL = "rss2email==3.14"


class DigestHome:
    """One digest install: a data folder and the environment its commands run with."""

    def __init__(
        self, folder: Path, *, smtp_port: int | None = None, config: Path | None = None
    ) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.env = {
            **_base_environment(),
            "DIGEST_DATA_DIR": str(folder),
            "DIGEST_SITE_BASE_URL": "https://papers.bench.example",
            "DIGEST_SITE_SECRET": "bench-secret-not-for-production",
            "DIGEST_MAIL_FROM_ADDRESS": "Paper digest <papers@bench.example>",
            "DIGEST_MAIL_OPERATOR": "operator@bench.example",
            "DIGEST_HTTP_HOST_INTERVAL": "0",
        }
        if smtp_port is not None:
            self.env["DIGEST_MAIL_SMTP_URL"] = f"smtp://127.0.0.1:{smtp_port}?tls=off"
        if config is not None:
            self.env["DIGEST_CONFIG"] = str(config)

    @property
    def db_path(self) -> Path:
        return self.folder / "digest.db"

    def start(self, *args: str) -> Child:
        return Child([sys.executable, "-m", "digest", *args], env=self.env)

    def run(self, *sources: str) -> Sample:
        argv = [part for source in sources for part in ("--source", source)]
        return self.start("run", *argv).wait().check(f"digest run in {self.folder}")


class Rss2emailHome:
    """One rss2email install: its configuration, its data file, one feed named ``bench``."""

    def __init__(
        self, r2e: Path, folder: Path, feed_url: str, *, smtp_port: int | None = None
    ) -> None:
        self.r2e = r2e
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "r2e.cfg"
        self.data = folder / "r2e.json"
        self._call("new", "reader@bench.example")
        self._call("add", "bench", feed_url)
        self._configure(smtp_port)

    def start(self, *, send: bool) -> Child:
        return Child([*self._prefix(), "run", *([] if send else ["--no-send"])], env=self._env())

    def run(self, *, send: bool) -> Sample:
        return self.start(send=send).wait().check(f"r2e run in {self.folder}")

    def command(self, *args: str) -> Sample:
        """Any other ``r2e`` command (``--version``, ``list``), timed like a run."""
        child = Child([*self._prefix(), *args], env=self._env())
        return child.wait().check(f"r2e {' '.join(args)} in {self.folder}")

    def seed_seen(self, guids: Iterable[str]) -> int:
        """Write a data file in which every guid was already mailed (what years of runs leave)."""
        seen = {
            guid: {
                "hash": hashlib.sha1(guid.encode()).hexdigest(),
                "message_id": f"<{hashlib.md5(guid.encode()).hexdigest()}@bench.example>",
            }
            for guid in guids
        }
        state = {"version": 2, "feeds": [{"name": "bench", "etag": None, "modified": None,
                                          "seen": seen}]}  # fmt: skip
        self.data.write_text(json.dumps(state, indent=2, separators=(",", ": ")) + "\n")
        return len(seen)

    def _configure(self, smtp_port: int | None) -> None:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(self.config)
        defaults = parser["DEFAULT"]
        defaults["from"] = "papers@bench.example"
        defaults["verbose"] = "warning"
        if smtp_port is not None:
            defaults["email-protocol"] = "smtp"
            defaults["smtp-server"] = "127.0.0.1"
            defaults["smtp-port"] = str(smtp_port)
            defaults["smtp-ssl"] = "False"
            defaults["smtp-auth"] = "False"
        with open(self.config, "w") as handle:
            parser.write(handle)

    def _prefix(self) -> list[str]:
        return [str(self.r2e), "-c", str(self.config), "-d", str(self.data)]

    def _env(self) -> dict[str, str]:
        return {**_base_environment(), "HOME": str(self.folder)}

    def _call(self, *args: str) -> None:
        done = subprocess.run(
            [*self._prefix(), *args], env=self._env(), capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"r2e {' '.join(args)} failed: {done.stderr[-2000:]}")


def install_rss2email(work: Path) -> tuple[Path | None, str]:
    """``(r2e path, "")`` once rss2email 3.14 is installed in its own venv, else ``(None, why)``."""
    venv = work / "rss2email-3.14-venv"
    r2e = venv / "bin" / "r2e"
    if r2e.exists() and _version(r2e) == "rss2email 3.14":
        return r2e, ""
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", RSS2EMAIL],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"cannot make a virtual environment for rss2email: {error}"
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return None, f"pip install {RSS2EMAIL} failed: {lines[-1] if lines else done.returncode}"
    if _version(r2e) != "rss2email 3.14":
        return None, f"{r2e} is not rss2email 3.14"
    return r2e, ""


def _version(r2e: Path) -> str:
    try:
        done = subprocess.run([str(r2e), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def _base_environment() -> dict[str, str]:
    """PATH and locale from the bench's environment; no DIGEST_* setting leaks in."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "HOME", "PYTHONPATH")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    # `python -m digest` must import this checkout's digest, wherever the bench runs from.
    repo = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo, env.get("PYTHONPATH", "")]))
    return env


def guids(arxiv_ids: Sequence[str]) -> list[str]:
    """rss2email's key for an entry is its Atom id: ours are arXiv abs URLs."""
    return [f"https://arxiv.org/abs/{arxiv_id}" for arxiv_id in arxiv_ids]
