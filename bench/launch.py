"""Start one program and report its own peak RSS: ``python -S -I launch.py REPORT -- ARGV…``.

Linux keeps the memory high-water mark of a process across ``exec``, so a child
forked straight from the bench (which may hold a generated history in memory)
would report the bench's size as its own. This launcher is tiny: the program
it forks and execs inherits only its few megabytes. It writes the child's pid
to REPORT at once (so the bench can kill -9 the program itself), then, when
the child ends, its exit status, peak RSS in KiB and wall seconds.

Standard library only, and nothing imported beyond ``os``, ``sys`` and ``time``.
"""

import os
import sys
import time


def main() -> None:
    report, marker, *argv = sys.argv[1:]
    assert marker == "--" and argv
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    with open(report, "w") as handle:
        handle.write(f"{pid}\n")
        handle.flush()
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - started
        handle.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss} {seconds:.6f}\n")


if __name__ == "__main__":
    main()
