"""obrecon_pipeline: rebuild limit order books from raw market-data events.

The package root is the domain core: feed parsers (:mod:`obrecon_pipeline.feeds`), the Cython
replayer (:mod:`obrecon_pipeline.replay`), book metrics and fidelity statistics. None of it imports
Dagster; the Dagster layer lives in the top-level ``assets`` and ``resources`` packages and is
assembled by :mod:`obrecon_pipeline.definitions`.
"""

__version__ = "0.1.0"
