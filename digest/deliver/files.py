"""Writing published files (feeds) so readers never see half a file."""

from __future__ import annotations

import os
from pathlib import Path


def naming(error: OSError, path: Path) -> OSError:
    """The same error, naming ``path`` when the system did not (a write on a full disk)."""
    if error.filename is not None or error.errno is None:
        return error
    return type(error)(error.errno, error.strerror, str(path))


def write_atomically(path: Path, data: bytes) -> bool:
    """Replace ``path`` with ``data`` via a temporary file and rename; False when already equal.

    Leaving an identical file untouched keeps its mtime, so a web server's
    Last-Modified and ETag stay put and readers keep getting 304.
    """
    try:
        return _replace(path, data)
    except OSError as error:
        raise naming(error, path) from error


def _replace(path: Path, data: bytes) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    previous: int | None = None
    try:
        if path.read_bytes() == data:
            return False
        previous = int(path.stat().st_mtime)
    except FileNotFoundError:
        pass
    import tempfile  # here: `digest status` writes a file only now and then, tempfile costs ~3 ms

    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        if previous is not None and int(os.stat(temporary).st_mtime) <= previous:
            # HTTP dates count whole seconds. New bytes within the second of the old
            # ones would keep Last-Modified (and nginx's mtime-size ETag), and
            # curl-based readers (newsboat) drop a 200 that is not newer than their
            # If-Modified-Since. So a changed file is always at least a second newer.
            os.utime(temporary, (previous + 1, previous + 1))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
