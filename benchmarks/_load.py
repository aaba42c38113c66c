"""The machine's load average beside every table: timings taken on a busy machine mislead.

On two cores, a two-thread step (numpy's blocks, torch's OpenMP) collapses when anything else
runs, so every benchmark prints the 1-minute load average before and after its table and
marks the table unreliable above ``BUSY``.
"""
from __future__ import annotations

import os

BUSY = 1.5  # above this 1-minute load average a table is marked unreliable


def load() -> float | None:
    """The 1-minute load average, or None where the platform has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def load_line(label: str, value: float | None) -> str:
    """``load average before: 0.42``, flagged when the machine was busy."""
    if value is None:
        return f"load average {label}: unknown"
    flag = f"  (> {BUSY}: these timings are UNRELIABLE)" if value > BUSY else ""
    return f"load average {label}: {value:.2f}{flag}"


def busy(*values: float | None) -> bool:
    return any(value is not None and value > BUSY for value in values)


def around(run) -> dict:
    """``run()`` (a benchmark returning its results) between two load readings, printed and
    added to the results with whether they make the run unreliable."""
    before = load()
    print(load_line("before", before))
    results = run()
    after = load()
    print(load_line("after", after))
    results.update(load_before=before, load_after=after, unreliable=busy(before, after))
    return results
