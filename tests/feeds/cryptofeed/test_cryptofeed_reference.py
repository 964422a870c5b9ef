"""The replayed Kraken books against an independent pure-Python replay on the venue's strings."""

import sys
from decimal import Decimal
from pathlib import Path

import numpy as np

from cfhelpers import KRAKEN, run
from obrecon_pipeline.codes import NULL_CELL as NULL
from obrecon_pipeline.feeds.cryptofeed import from_files

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reference"))
from kraken_book import replay_kraken  # noqa: E402


def test_every_kraken_row_equals_the_pure_python_reference():
    reference = replay_kraken(KRAKEN, depth=10)
    verified = rows = 0
    for s in from_files([KRAKEN]):
        bm, sq, loaded, res = run([KRAKEN], s.symbol, levels=10)
        ref = reference[s.symbol]
        assert len(ref) == res.cells.shape[0]
        ps, ss = int(loaded.events["price_scale"][0]), int(loaded.events["size_scale"][0])
        expected = np.full_like(res.cells, NULL)
        for r, (bids, asks, venue, ours) in enumerate(ref):
            for k, (p, v) in enumerate(bids):
                expected[r, 4 * k : 4 * k + 2] = int(Decimal(p) * ps), int(Decimal(v) * ss)
            for k, (p, v) in enumerate(asks):
                expected[r, 4 * k + 2 : 4 * k + 4] = int(Decimal(p) * ps), int(Decimal(v) * ss)
            verified += venue is not None and venue == ours
        assert np.array_equal(res.cells, expected), s.symbol
        rows += len(ref)
    assert (rows, verified) == (4279, 4269)
