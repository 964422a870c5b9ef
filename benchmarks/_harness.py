"""What the benchmark scripts share: best-of-N wall time, the peak RSS of this process, and one
phase per fresh subprocess (so that each phase's peak RSS is its own) read back as the JSON line
the subprocess prints last.

A script runs its phases with :func:`in_subprocess` (or :func:`phases`, for the
``script --phase NAME ...`` convention) and, in the child, prints its row with :func:`emit`.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """``(least wall time in s over repeat calls of fn, the last call's result)``."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(row: dict) -> None:
    """Print a child's result row as the JSON line :func:`in_subprocess` reads."""
    print(json.dumps(row))


def in_subprocess(script: str | Path, *args: object) -> dict:
    """Run ``python script *args`` from the repository root; its last stdout line, as JSON."""
    out = subprocess.run([sys.executable, str(script), *map(str, args)],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def phases(script: str | Path, names: Iterable[str], *args: object) -> list[dict]:
    """``script --phase NAME *args`` for each name, each in its own subprocess; their rows."""
    return [in_subprocess(script, "--phase", name, *args) for name in names]
