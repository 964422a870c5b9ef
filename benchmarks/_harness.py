"""What the benchmark scripts share: best-of-N wall time, the peak RSS of this process, and one
phase per fresh subprocess (so that each phase's peak RSS is its own) read back as the JSON line
the subprocess prints last.

A script runs its phases with :func:`in_subprocess` (or :func:`phases`, for the
``script --phase NAME ...`` convention of :func:`phase_arguments`) and, in the child, prints its
row with :func:`emit`; :func:`print_speedups` prints rows beside a ``reference`` phase.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def scratch(prefix: str, parent: str | Path | None = None) -> Path:
    """A new scratch directory under ``parent`` (created if missing; default: the system's
    temporary directory)."""
    if parent is not None:
        Path(parent).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def best_of(fn: Callable[[], object], repeat: int,
            clock: Callable[[], float] = time.perf_counter) -> tuple[float, object]:
    """``(least time in s over repeat calls of fn, the last call's result)``; ``clock`` is wall
    time unless told otherwise (``time.process_time``: this process's CPU time)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = clock()
        out = fn()
        best = min(best, clock() - t0)
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


def phase_arguments(doc: str, names: Iterable[str], default_file: Path | None = None) -> argparse.Namespace:
    """The command line of a phase benchmark: ``[--file PATH] [--repeat N]`` (``--file`` when there
    is a default file) and the hidden ``--phase NAME`` that :func:`phases` gives a child."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    if default_file is not None:
        p.add_argument("--file", type=Path, default=default_file)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--phase", choices=tuple(names), help=argparse.SUPPRESS)
    return p.parse_args()


def print_speedups(rows: list[dict], unit: str) -> None:
    """One line per phase row: best wall time, ``<unit>/s`` (row key ``<unit>_per_s``), peak RSS and
    the rate as a multiple of the ``reference`` phase's."""
    reference = next(r for r in rows if r["phase"] == "reference")
    rate = f"{unit}_per_s"
    print(f"{'phase':<10} {'best wall s':>12} {unit + '/s':>14} {'peak RSS MiB':>13} {'x pure Python':>14}")
    for r in rows:
        speedup = r[rate] / reference[rate]
        print(f"{r['phase']:<10} {r['best_wall_s']:>12.4f} {r[rate]:>14,.0f} {r['peak_rss_mib']:>13.1f} "
              f"{speedup:>14.1f}")


def phase_result(name: str, unit: str, n: int, wall: float) -> dict:
    """A phase's row: ``n`` of ``unit`` in ``wall`` seconds (best run), and this process's peak RSS."""
    return {"phase": name, unit: n, "best_wall_s": wall, f"{unit}_per_s": n / wall, "peak_rss_mib": peak_rss_mib()}


def phase_main(script: str | Path, doc: str, names: Iterable[str], default_file: Path,
               phase: Callable[[str, Path, int], dict], unit: str, title: Callable[[Path, list[dict]], str]) -> None:
    """The ``main`` of a phase benchmark over one input file: as a child (``--phase``) run that phase
    and print its row; otherwise run every phase in its own subprocess and print the ``title`` line
    and :func:`print_speedups` against the ``reference`` phase."""
    args = phase_arguments(doc, names, default_file)
    if args.phase:
        emit(phase(args.phase, args.file, args.repeat))
        return
    rows = phases(script, names, "--file", args.file, "--repeat", args.repeat)
    print(title(args.file, rows))
    print_speedups(rows, unit)
