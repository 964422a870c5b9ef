"""The project's own LOBSTER parser reads simulated days and its replayer rebuilds their books
exactly, re-seeding the levels that slide into the window (asserted as on the real GOOG files in
``tests/feeds/test_lobster.py``)."""

from __future__ import annotations

import pytest

from obrecon_pipeline.events import Action
from obrecon_pipeline.feeds.lobster import discover, load_files
from obrecon_pipeline.pipeline import replay_stream
from obrecon_pipeline.simulate import ModelParams, simulate_day

EVENTS = 4_000
PARAMS = ModelParams(burn_in=2_000)


@pytest.mark.parametrize("levels", [10, 5, 1])
def test_replay_rebuilds_the_simulated_book(tmp_path, levels):
    r = simulate_day(tmp_path, "SIM", "2024-01-02", events=EVENTS, levels=levels, seed=3, params=PARAMS)
    loaded = load_files(r.message_file)
    assert loaded.events.height == EVENTS
    assert loaded.reference.shape == (EVENTS, 4 * levels)

    run = replay_stream("lobster", loaded, levels)
    match = run.match
    assert run.report["reference"]["match_rate"] == 1.0
    assert match.cells_compared == EVENTS * levels * 4  # every cell of every row
    assert match.cells_matched == match.cells_compared
    assert match.mismatched_rows == 0
    assert run.report["reseeds"] > 0  # levels slid into the window from beyond it
    assert run.report["unknown_cells"] == 0
    assert run.report["integrity_errors"] == 0
    assert run.report["crossed_rows"] == 0

    blind = replay_stream("lobster", loaded, levels, use_reference=False)
    assert blind.report["reseeds"] == 0
    assert blind.match.unknown_cells > 0
    assert blind.match.cells_compared == EVENTS * levels * 4 - blind.match.unknown_cells
    assert blind.match.cells_matched == blind.match.cells_compared  # every non-null cell is right


def test_parser_sees_every_type_and_the_landing_zone(tmp_path):
    r = simulate_day(tmp_path, "SIM", "2024-01-02", events=EVENTS, levels=10, seed=3, params=PARAMS, compress=True)
    events = load_files(r.message_file).events
    counts = dict(events.group_by("action").len().iter_rows())
    assert counts == {Action.ADD: r.type_counts[1], Action.CANCEL: r.type_counts[2], Action.DELETE: r.type_counts[3],
                      Action.EXECUTE: r.type_counts[4], Action.HIDDEN_EXECUTE: r.type_counts[5]}
    assert all(counts.values())
    # 09:30 on 2 January 2024 in New York (EST, UTC-5) is 14:30 UTC
    first = events["ts_event"][0]
    assert 1_704_205_800 * 10**9 <= first < 1_704_229_200 * 10**9
    streams = discover(r.message_file.parent, "2024-01-02")
    assert [s.name for s in streams] == ["SIM-L10"]
