"""Market-microstructure metrics computed from a reconstructed book (Polars, no Dagster).

One module per concern: :mod:`.prices` (mid-price and the usable-row filter), :mod:`.spreads`,
:mod:`.ofi`, :mod:`.returns`, :mod:`.microstructure`, :mod:`.impact`. Every function takes Polars
frames in the book schema (:mod:`obrecon_pipeline.book_schema`) and/or the normalized events
(:mod:`obrecon_pipeline.events`).
"""
