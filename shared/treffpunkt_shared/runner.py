"""Running a service's background parts (relay, consumer, mail sender) until told to stop."""
from __future__ import annotations

import logging
import signal
import threading
from typing import Protocol

from .logs import log_event

log = logging.getLogger("treffpunkt.runner")


class Runnable(Protocol):
    def run(self) -> None: ...
    def stop(self) -> None: ...


def start_threads(parts: dict[str, Runnable]) -> dict[str, threading.Thread]:
    threads = {}
    for name, part in parts.items():
        thread = threading.Thread(target=part.run, name=name, daemon=True)
        thread.start()
        threads[name] = thread
    return threads


def run_until_stopped(parts: dict[str, Runnable]) -> int:
    """Run each part in a thread; stop all on SIGTERM/SIGINT. Exit non-zero if a part dies on its own."""
    stopping = threading.Event()

    def _stop(signum, _frame):
        log_event(log, "stopping", signal=signum)
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    threads = start_threads(parts)
    log_event(log, "worker_started", parts=sorted(parts))
    dead = None
    while not stopping.wait(0.5):
        dead = next((name for name, t in threads.items() if not t.is_alive()), None)
        if dead:
            log_event(log, "part_died", logging.ERROR, part=dead)
            break
    for part in parts.values():
        part.stop()
    for thread in threads.values():
        thread.join(timeout=10)
    return 1 if dead else 0
