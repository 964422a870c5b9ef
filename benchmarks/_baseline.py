"""What the reader benchmarks share: phases run against another commit's package (the reference
readers of ``main``) beside this tree's, and their table.

:func:`baseline_tree` extracts ``obrecon_pipeline/`` of a git ref (``git archive``) into a
temporary folder; :func:`in_subprocess_with` runs ``python script *args`` with that folder first
on ``PYTHONPATH``, so ``import obrecon_pipeline`` there is the ref's code (pure-Python modules only:
the ref's compiled extensions are not built).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from _harness import ROOT


def baseline_tree(ref: str) -> tempfile.TemporaryDirectory:
    """A temporary folder holding ``obrecon_pipeline/`` as of ``ref`` (delete with ``.cleanup()``)."""
    tmp = tempfile.TemporaryDirectory(prefix="obrecon-baseline-")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "obrecon_pipeline"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp.name, filter="data")
    return tmp


def in_subprocess_with(pythonpath: str | None, script: str | Path, *args: object) -> dict:
    """Like :func:`_harness.in_subprocess`, with ``pythonpath`` first on the child's path."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, str(script), *map(str, args)],
                         check=True, capture_output=True, text=True, cwd=ROOT, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def arguments(doc: str, phases: tuple[str, ...], **options: int) -> argparse.Namespace:
    """The command line of a reader benchmark: ``--NAME N`` for each option (its default),
    ``--chunk`` and ``--baseline REF``, and the hidden arguments a phase child gets."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    for name, default in {**options, "chunk": 1 << 20}.items():
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)
    p.add_argument("--baseline", default=None,
                   help="git ref whose whole-day reader is the reference (pure-Python modules only, so a ref "
                        "before the reader had compiled extensions); default: this tree's whole-day reader")
    p.add_argument("--phase", choices=("whole", *phases), help=argparse.SUPPRESS)
    p.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--baseline-dir", help=argparse.SUPPRESS)
    return p.parse_args()


def compare(script: str | Path, args: argparse.Namespace, baseline_file: Path, file: Path,
            phases: tuple[str, ...]) -> list[dict]:
    """The ``whole`` phase on ``baseline_file`` with ``args.baseline``'s package (no baseline: on
    ``file`` with this tree's), then each of ``phases`` on ``file`` with this tree's, each in its
    own subprocess; their rows."""
    tree = baseline_tree(args.baseline) if args.baseline else None
    try:
        whole = ("--file", baseline_file, "--baseline-dir", tree.name) if tree else ("--file", file)
        rows = [in_subprocess_with(tree and tree.name, script, "--phase", "whole", *whole)]
        rows += [in_subprocess_with(None, script, "--phase", name, "--file", file, "--chunk", args.chunk)
                 for name in phases]
    finally:
        if tree:
            tree.cleanup()
    return rows


def print_rows(rows: list[dict], unit: str, mb_label: str = "MB/s") -> None:
    """One line per phase: wall and CPU time (all threads), ``<unit>/s`` and MB/s of wall time,
    ``<unit>`` per CPU second (steadier than wall time on a shared machine), peak RSS, and the
    wall rate over ``whole``'s."""
    rate = f"{unit}_per_s"
    print(f"{'phase':<14} {'wall s':>7} {'cpu s':>7} {unit + '/s':>12} {mb_label:>11} {unit + '/cpu-s':>14} "
          f"{'peak RSS MiB':>13} {'x whole':>8}")
    for r in rows:
        per_cpu = r[rate] * r["wall_s"] / r["cpu_s"]
        print(f"{r['phase']:<14} {r['wall_s']:>7.2f} {r['cpu_s']:>7.2f} {r[rate]:>12,.0f} {r['mb_per_s']:>11.0f} "
              f"{per_cpu:>14,.0f} {r['peak_rss_mib']:>13.0f} {r[rate] / rows[0][rate]:>8.1f}")
