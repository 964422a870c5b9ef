"""``feeds._io.held_bytes``: what a raw file holds read whole, the size the readers compare with
``STREAM_ABOVE`` to choose between holding it and reading it block by block."""

from __future__ import annotations

import gzip

from obrecon_pipeline.feeds._io import held_bytes
from tests.feeds.test_tardis import INCREMENTAL

#: the shipped Tardis sample's 1,221 bytes
ROWS = INCREMENTAL.read_bytes()


def test_a_plain_file_holds_its_size():
    assert held_bytes(INCREMENTAL) == len(ROWS) == 1221


def test_a_gzip_file_holds_its_decompressed_size(tmp_path):
    text = ROWS * 50
    path = tmp_path / "rows.csv.gz"
    path.write_bytes(gzip.compress(text))
    assert path.stat().st_size < len(text)
    assert held_bytes(path) == len(text)


def test_a_file_of_members_is_judged_by_its_last(tmp_path):
    first, last = ROWS * 40, ROWS * 3
    path = tmp_path / "rows.csv.gz"
    path.write_bytes(gzip.compress(first) + gzip.compress(last))
    assert gzip.decompress(path.read_bytes()) == first + last
    assert held_bytes(path) == len(last)


def test_a_gzip_file_too_short_for_a_trailer_holds_its_size(tmp_path):
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(b"x")[:12])
    assert held_bytes(path) == 12


def test_a_trailer_deflate_cannot_reach_is_not_believed(tmp_path):
    """A file cut short ends inside its data: 4 bytes read as ``ISIZE`` claiming more than 1032
    times the file's size are not a trailer; the file is judged by its size (held whole, its
    truncation named at once)."""
    data = gzip.compress(ROWS)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[:-4] + (1032 * len(data) + 1).to_bytes(4, "little"))
    assert held_bytes(path) == len(data)
    path.write_bytes(data[:-4] + (1032 * len(data)).to_bytes(4, "little"))
    assert held_bytes(path) == 1032 * len(data)
