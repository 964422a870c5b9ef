"""The spill's scratch directories after their owner is killed: a process SIGKILLed while it holds
a spill leaves its directory, the next :class:`Spill` created removes it and keeps a live
process's; a name with a reused pid (another start time) is an orphan, one from another boot or
pid namespace or without an owner is kept; two removers at once take each orphan once, between them all."""

import json
import os
import signal
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from obrecon_pipeline.feeds import spill
from obrecon_pipeline.feeds.spill import PREFIX, Spill, remove_orphans

#: a process holding a spill of 1000 int64 values: prints its directory's name, then waits
HOLDER = """
import sys
import numpy as np
from obrecon_pipeline.feeds.spill import Spill
s = Spill({"t": np.int64})
s.append({"t": np.arange(1000)})
print(s._dir.name, flush=True)
sys.stdin.read()
"""

#: a process removing the orphans: says it is ready, at a line on stdin removes them and prints
#: the names it removed
REMOVER = """
import json, sys
from obrecon_pipeline.feeds.spill import remove_orphans
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps(sorted(p.name for p in remove_orphans())))
"""


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """``tmp_path`` as the temporary directory of this process and of its children."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return tmp_path


def holder():
    proc = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return proc, os.path.basename(proc.stdout.readline().strip())


def names(root):
    return sorted(p.name for p in root.iterdir())


def test_a_killed_owners_directory_is_removed_by_the_next_spill_and_a_live_ones_kept(scratch):
    killed, killed_dir = holder()
    live, live_dir = holder()
    try:
        killed.send_signal(signal.SIGKILL)
        assert killed.wait() == -signal.SIGKILL
        assert names(scratch) == sorted([killed_dir, live_dir])  # the kill ran no cleanup
        assert (scratch / killed_dir / "t.bin").stat().st_size == 8000
        assert killed_dir.startswith(f"{PREFIX}{spill._host()}-{killed.pid}-")
        new = Spill({"t": np.int64})
        assert names(scratch) == sorted([live_dir, os.path.basename(new._dir.name)])
        assert (scratch / live_dir / "t.bin").stat().st_size == 8000
        new.close()
        assert names(scratch) == [live_dir]
    finally:
        live.kill()
        live.wait()
    assert names(scratch) == [live_dir]  # killed too
    assert remove_orphans() == [scratch / live_dir]
    assert names(scratch) == []


def test_reused_pids_other_boots_and_namespaces_and_unowned_names(scratch):
    host, pid, start = spill._host(), os.getpid(), spill._start_time(os.getpid())
    boot, namespace = host.split("-")
    other_boot = f"{int(boot[0], 16) ^ 1:x}{boot[1:]}-{namespace}"
    other_namespace = f"{boot}-{int(namespace) + 1}"
    kept = [f"{PREFIX}{host}-{pid}-{start}-a", f"{PREFIX}{other_boot}-{pid}-{start + 1}-b",
            f"{PREFIX}{other_namespace}-{pid}-{start + 1}-c", f"{PREFIX}x1y2z3", f"{PREFIX}{host}-{pid}-{start + 1}"]
    orphans = [f"{PREFIX}{host}-{pid}-{start + 1}-d", f"{PREFIX}{host}-{pid}-{start - 1}-e"]
    for name in kept + orphans:
        (scratch / name).mkdir()
        (scratch / name / "t.bin").write_bytes(b"x" * 48)
    not_a_directory = f"{PREFIX}{host}-{pid}-{start + 1}-file"
    (scratch / not_a_directory).write_bytes(b"")
    assert sorted(remove_orphans()) == sorted(scratch / n for n in orphans)  # in the directory's order
    assert names(scratch) == sorted(kept + [not_a_directory])


def test_two_removers_at_once_take_each_orphan_once(scratch):
    dead = subprocess.run([sys.executable, "-c", "from obrecon_pipeline.feeds import spill; "
                           "print(spill._owner_prefix())"], capture_output=True, text=True, check=True)
    orphans = [f"{dead.stdout.strip()}{i:02d}" for i in range(40)]
    for name in orphans:
        (scratch / name / "sub").mkdir(parents=True)
        (scratch / name / "sub" / "t.bin").write_bytes(b"x" * 4800)
    removers = [subprocess.Popen([sys.executable, "-c", REMOVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
    assert [r.stdout.readline() for r in removers] == ["ready\n", "ready\n"]
    for r in removers:
        r.stdin.write("go\n")
        r.stdin.flush()
    outs = [r.communicate() for r in removers]
    assert [(r.returncode, err) for r, (_, err) in zip(removers, outs)] == [(0, ""), (0, "")]
    taken = [json.loads(out) for out, _ in outs]
    assert sorted(taken[0] + taken[1]) == orphans
    assert set(taken[0]) & set(taken[1]) == set()
    assert names(scratch) == []
