"""The one path every aggregated-level (L2) venue message takes to become normalized events.

Every L2 format — the cryptofeed venues (:mod:`obrecon_pipeline.feeds.cryptofeed`), Bybit history
files (:mod:`obrecon_pipeline.feeds.bybit_history`) and Tardis ``incremental_book_L2``
(:mod:`obrecon_pipeline.feeds.tardis`) — only *reads* its files into a
:class:`.messages.BookMessages`; everything after that lives here, once:

* :mod:`.messages`: the message model (snapshot / diff, levels as exact decimal strings, update
  ids, checksum), its exact decimal scaling (one scale per symbol and column), the gap record
  (:data:`.messages.GAP_SCHEMA`) and the assembly into events (``CLEAR`` + ``SET_LEVEL`` + flags);
* :mod:`._sequencer`: the stateful Cython sequencer — sync to snapshots, duplicates, bounded
  reordering, gaps located, resync (wait for the next snapshot, or continue from the id received);
* :mod:`.connseq`: update ids derived from a connection-wide sequence number (Bitfinex,
  Blockchain.com);
* :mod:`.source`: :class:`.source.L2Source`, the chunked
  :class:`~obrecon_pipeline.streams.StreamSource` that ``pipeline.run_stream`` replays;
* :mod:`.spilled`: :class:`.spilled.SpilledBook`, a book whose parsed messages stay in a scratch
  file and are read block by block (memory independent of the day's length).
"""
