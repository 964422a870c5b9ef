"""Run a benchmark phase against another commit's package (the reference readers of ``main``).

:func:`baseline_tree` extracts ``obrecon_pipeline/`` of a git ref (``git archive``) into a
temporary folder; :func:`in_subprocess_with` runs ``python script *args`` with that folder first
on ``PYTHONPATH``, so ``import obrecon_pipeline`` there is the ref's code (pure-Python modules only:
the ref's compiled extensions are not built).
"""

from __future__ import annotations

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
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
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
