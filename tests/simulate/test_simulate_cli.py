"""``obrecon simulate`` from the shell's point of view: the landing-zone layout, output, errors."""

from __future__ import annotations

from obrecon_pipeline.cli import main
from obrecon_pipeline.feeds.lobster import discover

ARGS = ["--events", "200", "--levels", "5", "--seed", "1", "--burn-in", "500"]


def test_three_weekdays_around_a_weekend(tmp_path, capsys):
    # Friday 5 January 2024 to Tuesday 9 January: Saturday and Sunday are skipped
    assert main(["simulate", "--root", str(tmp_path), "--symbol", "AAA", "--symbol", "BBB",
                 "--start", "2024-01-05", "--end", "2024-01-09", *ARGS]) == 0
    lobster = tmp_path / "raw" / "lobster"
    assert sorted(p.name for p in lobster.iterdir()) == ["2024-01-05", "2024-01-08", "2024-01-09"]
    for day in ("2024-01-05", "2024-01-08", "2024-01-09"):
        assert sorted(p.name for p in (lobster / day).iterdir()) == [
            f"{sym}_{day}_34200000_57600000_{kind}_5.csv" for sym in ("AAA", "BBB") for kind in ("message", "orderbook")]
        assert sorted(s.name for s in discover(lobster / day, day)) == ["AAA-L5", "BBB-L5"]
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6
    assert lines[0].startswith("2024-01-05 AAA L5: 200 messages, ")
    assert f"-> {lobster / '2024-01-05' / 'AAA_2024-01-05_34200000_57600000_message_5.csv'} (+ orderbook)" in lines[0]
    assert lines[-1].startswith("2024-01-09 BBB L5: 200 messages") and lines[-1].endswith(" events/s")


def test_root_defaults_to_obrecon_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OBRECON_DATA_DIR", str(tmp_path / "root"))
    assert main(["simulate", "--symbol", "X", "--start", "2024-01-02", "--gzip", "--price", "25.5", *ARGS]) == 0
    day = tmp_path / "root" / "raw" / "lobster" / "2024-01-02"
    assert sorted(p.name for p in day.iterdir()) == [
        "X_2024-01-02_34200000_57600000_message_5.csv.gz", "X_2024-01-02_34200000_57600000_orderbook_5.csv.gz"]


def test_model_options_reach_the_model(tmp_path):
    assert main(["simulate", "--root", str(tmp_path), "--symbol", "X", "--start", "2024-01-02", "--price", "25.5",
                 "--tick", "0.05", *ARGS]) == 0
    msg = next((tmp_path / "raw" / "lobster" / "2024-01-02").glob("*_message_5.csv"))
    prices = [int(line.split(",")[4]) for line in msg.read_text().splitlines()]
    assert all(p % 500 == 0 for p in prices)  # a $0.05 tick
    assert 200_000 < sum(prices) / len(prices) < 310_000  # around $25.50


def test_errors_exit_2_with_one_line(tmp_path, capsys):
    for extra, reason in [
        (["--start", "2024-01-06"], "no weekday from 2024-01-06 to 2024-01-06"),  # a Saturday
        (["--start", "2024-01-02", "--theta", "0"], "model parameter theta must be positive, got 0.0"),
        (["--start", "2024-01-02", "--levels", "0"], "--events and --levels must be at least 1, got 200 and 0"),
    ]:
        assert main(["simulate", "--root", str(tmp_path), "--symbol", "X", *ARGS, *extra]) == 2
        assert capsys.readouterr().err == f"obrecon: error: {reason}\n"
    assert not (tmp_path / "raw").exists()
