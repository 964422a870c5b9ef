"""obrecon_pipeline: rebuild limit order books from raw market-data events.

The package is the domain core, in layers that only point down:

* contracts: :mod:`.codes` (every code and sentinel, with ``codes.pxd`` for Cython),
  :mod:`.events` (normalized events), :mod:`.book_schema` (the book table), :mod:`.streams`
  (what a feed hands the replayer), :mod:`.errors`; utilities :mod:`.atomic`, :mod:`.buffers`;
* on them, side by side: the feed parsers (:mod:`.feeds`) and the Cython replayer (:mod:`.replay`);
* on the book: :mod:`.integrity`, :mod:`.metrics`, :mod:`.fidelity`;
* on all of those: :mod:`.pipeline` and :mod:`.report` (one stream end to end), :mod:`.cli`.

None of it imports Dagster: the Dagster layer is the top-level ``assets`` and ``resources``
packages (the code location is :mod:`assets.definitions`). ``tests/test_layers.py`` holds the rules.
"""

__version__ = "0.1.0"
