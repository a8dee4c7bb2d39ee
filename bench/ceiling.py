"""The sink's own ceiling: precomputed messages sent over one SMTP connection, nothing else.

``python -m bench.ceiling PORT MESSAGE COUNT`` prints messages per second of a
bare ``smtplib`` loop (one recipient per message): the most any sender on this
machine can get out of this sink. MESSAGE is a file, sent COUNT times, or a
sink folder, whose ``1.eml`` … ``COUNT.eml`` are sent once each in that order:
the very messages a digest run just sent, when their sizes differ (readers
with topics get 19-58 KB; the first reader's mail alone is not their mean).
"""

from __future__ import annotations

import smtplib
import sys
import time
from pathlib import Path


def main(port: int, messages: list[bytes], count: int) -> float:
    with smtplib.SMTP("127.0.0.1", port) as connection:
        connection.ehlo()
        began = time.perf_counter()
        for number in range(count):
            connection.sendmail(
                "papers@bench.example",
                [f"ceiling{number}@bench.example"],
                messages[number % len(messages)],
            )
        return count / (time.perf_counter() - began)


def load(path: Path, count: int) -> list[bytes]:
    """The messages to send, read before the clock starts."""
    if path.is_dir():
        return [(path / f"{number}.eml").read_bytes() for number in range(1, count + 1)]
    return [path.read_bytes()]


if __name__ == "__main__":
    count = int(sys.argv[3])
    rate = main(int(sys.argv[1]), load(Path(sys.argv[2]), count), count)
    print(f"{rate:.1f}")
