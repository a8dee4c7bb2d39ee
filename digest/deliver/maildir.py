"""The embedded default transport: a Maildir on disk, so `digest run` works with nothing installed.

Each message is written to ``tmp/`` and renamed into ``new/`` under a name derived
from its Message-ID (Maildir only asks names to be unique). Delivering the same
message twice therefore leaves one file: a crash between writing the file and
marking the ledger cannot produce a duplicate.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from .files import naming


class MaildirTransport:
    def __init__(self, path: Path) -> None:
        self.path = path
        for folder in ("tmp", "new", "cur"):
            (path / folder).mkdir(parents=True, exist_ok=True)

    def send(self, message: bytes, *, sender: str, recipient: str, message_id: str) -> str:
        name = _file_name(message_id, recipient)
        final = self.path / "new" / name
        if final.exists() or (self.path / "cur" / name).exists():
            return f"already in {final}"
        temporary = self.path / "tmp" / name
        try:
            with open(temporary, "wb") as handle:
                # Maildir files use the local line ending; SMTP's CRLF is for the wire.
                handle.write(message.replace(b"\r\n", b"\n"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except OSError as error:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise naming(error, temporary) from error
        return f"stored as {final}"

    def close(self) -> None:
        """Nothing to release: each message is its own file."""


def _file_name(message_id: str, recipient: str) -> str:
    digest = hashlib.sha256(f"{message_id}\0{recipient}".encode()).hexdigest()[:32]
    return f"digest-{digest}.eml"
