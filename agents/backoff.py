"""Failed ticks are retried with backoff, not repeated identically every tick.

A tick fails when its data is refused, its training raises, or anything else in it does.
After `n` failures in a row on the same inputs the agent lets `2**(n-1) - 1` ticks pass
(0, 1, 3, 7, … up to a cap) before it tries those inputs again, and says so in each
decision. New inputs (the operator fixed the file) or a forced retrain try at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from movie_r.storage.records import Decision


@dataclass(frozen=True)
class Backoff:
    """How the latest failures on one set of inputs stand."""

    failures: int  # failed ticks in a row on these inputs
    waited: int  # ticks passed over since the last of them
    last_error: str | None

    def ticks_to_wait(self, cap: int) -> int:
        return min(2 ** (self.failures - 1) - 1, cap) if self.failures else 0

    def reason(self, cap: int) -> str | None:
        """Why this tick should not try again yet, or None when it should."""
        remaining = self.ticks_to_wait(cap) - self.waited
        if remaining <= 0:
            return None
        return (
            f"backing off: the last {self.failures} ticks on these inputs failed ({self.last_error}); "
            f"next attempt in {remaining} tick(s), or at once if the data changes or with `movie-r retrain --force`"
        )


def backoff(decisions: list[Decision], inputs_key: str) -> Backoff:
    """Count, from the newest decision back, the failures on `inputs_key` and the ticks since."""
    failures, waited, last_error = 0, 0, None
    for decision in reversed(decisions):
        if decision.verdict == "skipped":
            continue
        if decision.inputs_key != inputs_key:
            break
        if decision.verdict == "backing off":
            if failures == 0:
                waited += 1
            continue
        if not decision.failed:
            break
        if failures == 0:
            last_error = decision.error
        failures += 1
    return Backoff(failures, waited, last_error)
