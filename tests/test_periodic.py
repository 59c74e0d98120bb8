"""The one periodic-thread mechanism the services share."""

from __future__ import annotations

import threading
import time

from movie_r.periodic import Periodic


def test_it_calls_on_time_survives_a_failure_and_stops_promptly() -> None:
    calls: list[float] = []
    third = threading.Event()

    def action() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("a surprise")  # logged; the next call still comes
        if len(calls) == 3:
            third.set()

    periodic = Periodic("test-periodic", 0.02, action)
    periodic.start()
    assert third.wait(5)
    started = time.monotonic()
    periodic.stop(timeout=5)
    assert time.monotonic() - started < 1
    count = len(calls)
    time.sleep(0.1)
    assert len(calls) == count  # stopped means no more calls
