"""simulate_day / simulate_days: the files, their bytes, determinism and atomic publication."""

from __future__ import annotations

import gzip
from datetime import date

import pytest

from obrecon_pipeline.errors import ObreconError
from obrecon_pipeline.simulate import ModelParams, simulate_day, simulate_days
from obrecon_pipeline.simulate.params import tables
from obrecon_pipeline.simulate.pymodel import simulate_bytes
from obrecon_pipeline.simulate.seeds import day_seed

PARAMS = ModelParams(burn_in=1_000)


def day(root, **kw):
    args = dict(events=2_000, levels=10, seed=5, params=PARAMS)
    args.update(kw)
    return simulate_day(root, args.pop("symbol", "SIM"), args.pop("day", "2024-01-02"), **args)


def test_files_are_the_reference_bytes(tmp_path):
    r = day(tmp_path)
    expected = simulate_bytes(tables(PARAMS), 10, 2_000, day_seed(5, "2024-01-02", "SIM"))
    assert (r.message_file.read_bytes(), r.orderbook_file.read_bytes()) == expected
    assert r.messages == 2_000 and sum(r.type_counts.values()) == 2_000
    assert r.bytes_written == len(expected[0]) + len(expected[1])
    assert r.steps > r.messages
    assert sorted(p.name for p in r.message_file.parent.iterdir()) == [
        "SIM_2024-01-02_34200000_57600000_message_10.csv", "SIM_2024-01-02_34200000_57600000_orderbook_10.csv"]


def test_gzip_holds_the_same_bytes(tmp_path):
    plain, packed = day(tmp_path / "a"), day(tmp_path / "b", compress=True)
    assert packed.message_file.name.endswith("_message_10.csv.gz")
    assert gzip.decompress(packed.message_file.read_bytes()) == plain.message_file.read_bytes()
    assert gzip.decompress(packed.orderbook_file.read_bytes()) == plain.orderbook_file.read_bytes()
    assert packed.bytes_written < plain.bytes_written / 4


def test_deterministic(tmp_path):
    a, b = day(tmp_path / "a"), day(tmp_path / "b")
    assert a.message_file.read_bytes() == b.message_file.read_bytes()
    assert a.orderbook_file.read_bytes() == b.orderbook_file.read_bytes()
    others = [day(tmp_path / "c", seed=6), day(tmp_path / "d", symbol="OTHER"), day(tmp_path / "e", day="2024-01-03")]
    for other in others:
        assert other.message_file.read_bytes() != a.message_file.read_bytes()


def test_a_failed_day_publishes_nothing(tmp_path):
    """The orderbook file's final name is taken by a directory: the rename fails, the message file
    is not published and no temporary file is left behind."""
    r = day(tmp_path)
    r.message_file.unlink()
    r.orderbook_file.unlink()
    r.orderbook_file.mkdir()
    with pytest.raises(IsADirectoryError):
        day(tmp_path)
    assert [p.name for p in r.message_file.parent.iterdir()] == [r.orderbook_file.name]


def test_simulate_days_weekdays_and_symbols(tmp_path):
    seen = []
    results = simulate_days(tmp_path, ["AAA", "BBB"], date(2024, 1, 5), date(2024, 1, 8), events=50, levels=1,
                            seed=1, params=PARAMS, on_day=seen.append)
    assert [(r.day, r.symbol) for r in results] == [
        ("2024-01-05", "AAA"), ("2024-01-05", "BBB"), ("2024-01-08", "AAA"), ("2024-01-08", "BBB")]
    assert seen == results
    # each day and symbol has its own seed: the same as written alone
    alone = simulate_day(tmp_path / "alone", "BBB", "2024-01-08", events=50, levels=1, seed=1, params=PARAMS)
    assert alone.message_file.read_bytes() == results[3].message_file.read_bytes()


def test_refused_arguments(tmp_path):
    with pytest.raises(ObreconError, match="at least 1"):
        day(tmp_path, events=0)
    with pytest.raises(ObreconError, match="at least 1"):
        day(tmp_path, levels=0)
