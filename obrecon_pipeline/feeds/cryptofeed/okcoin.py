"""OKCoin WebSocket v5 ``books`` channel (cryptofeed venue ``OKCOIN``).

OKCoin's v5 public API is OKX's v5 API on another host (``wss://real.okcoin.com:8443/ws/v5/public``):
the same ``books`` messages (``action`` snapshot/update, levels ``[price, size, "0", orders]``,
``ts``, and a signed CRC32 ``checksum`` over the top 25 levels interleaved bid:ask). The OKX
translator reads it unchanged (:mod:`obrecon_pipeline.feeds.cryptofeed.okx`); the checksum is
verified by the replayer with the ``"okx"`` algorithm.
"""

from __future__ import annotations

from obrecon_pipeline.feeds.cryptofeed import Venue, register_venue
from obrecon_pipeline.feeds.cryptofeed.okx import load, symbols

register_venue(Venue(names=("OKCOIN",), symbols=symbols, load=load))
