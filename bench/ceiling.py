"""The sink's own ceiling: one precomputed message sent N times over one SMTP connection.

``python -m bench.ceiling PORT MESSAGE_FILE COUNT`` prints messages per second
of a bare ``smtplib`` loop (one recipient per message, nothing else): the most
any sender on this machine can get out of this sink.
"""

from __future__ import annotations

import smtplib
import sys
import time
from pathlib import Path


def main(port: int, message: bytes, count: int) -> float:
    with smtplib.SMTP("127.0.0.1", port) as connection:
        connection.ehlo()
        began = time.perf_counter()
        for number in range(count):
            connection.sendmail("papers@bench.example", [f"ceiling{number}@bench.example"], message)
        return count / (time.perf_counter() - began)


if __name__ == "__main__":
    rate = main(int(sys.argv[1]), Path(sys.argv[2]).read_bytes(), int(sys.argv[3]))
    print(f"{rate:.1f}")
