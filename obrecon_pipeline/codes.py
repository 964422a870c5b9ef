"""Every code of the on-disk contracts and of the Cython core, defined once.

The Python side is these enums; the Cython side is :file:`codes.pxd` beside this file, which the
replayer, the sequencer and the checksum verifiers ``cimport``. The two are kept in agreement by a
test (``tests/test_codes.py`` compares them value by value through
:mod:`obrecon_pipeline._codes`, a module compiled from the ``.pxd``).

* :class:`Action`, :class:`Side`, :class:`Flag`: the normalized event table
  (:mod:`obrecon_pipeline.events`);
* :data:`NULL_CELL`, :data:`UNKNOWN_CELL`: the replayer's integer cells for an empty level and for
  a level the events cannot determine (both become null in the book table,
  :mod:`obrecon_pipeline.book_schema`); :data:`NULL_ID`: an absent update id or checksum;
* :class:`IntegrityKind`: why the replayer declared a book broken (``report.json``'s
  ``integrity_failure_list`` kinds);
* :class:`MessageStatus`: what the L2 sequencer did with a venue message;
* :class:`Link`: how a venue's update ids chain; :class:`Resync`: what follows a gap; :class:`Checksum`: which venue checksum;
* :class:`CrossedKind`: what a crossed-book episode is (``report.json``'s ``crossed_episode_list``
  kinds).
"""

from __future__ import annotations

from enum import IntEnum, IntFlag


class Action(IntEnum):
    """What an event does to the book (values are part of the on-disk contract)."""

    ADD = 1  #: new L3 order (order_id, side, price, size)
    CANCEL = 2  #: partial cancel of an L3 order by ``size``
    DELETE = 3  #: full removal of an L3 order (``size`` = what was left)
    EXECUTE = 4  #: visible execution against a resting L3 order by ``size``
    HIDDEN_EXECUTE = 5  #: execution against hidden liquidity: no book change
    HALT = 6  #: trading halt / resume marker: no book change
    SET_LEVEL = 7  #: L2: the level at ``price`` now has aggregate ``size`` (0 removes it)
    CLEAR = 8  #: empty one side (``side`` = BID/ASK) or the whole book (``side`` = NONE)
    MODIFY = 9  #: L3 order changes price and/or size (new values in price/size)
    TRADE = 10  #: a trade print that does not change the book by itself (side = aggressor)
    FILL = 11  #: a resting order's fill reported apart from its book change (side = resting order)


class Side(IntEnum):
    BID = 1
    ASK = -1
    NONE = 0


class Flag(IntFlag):
    """Per-event bits."""

    END_OF_MESSAGE = 1  #: last event of an atomic venue message/batch: a book anyone saw
    SNAPSHOT = 2  #: part of a snapshot (initial book or resync)
    BAD_BOOK = 4  #: the venue (or the sequencer) flags the book as possibly bad from here on


#: integer cell of an empty level (int64 min)
NULL_CELL = -(2**63)
#: integer cell of a level that may or may not exist: not observable from the events
UNKNOWN_CELL = NULL_CELL + 1
#: an absent update id / checksum in the integer columns the Cython code reads
NULL_ID = NULL_CELL


class IntegrityKind(IntEnum):
    """Why a book is not trusted from an event on (until the next snapshot)."""

    NEGATIVE_SIZE = 1  #: a level or order would go below zero
    UNKNOWN_ORDER_ID = 2  #: a strict L3 feed reduces an order it never added
    DUPLICATE_ORDER_ID = 3  #: a strict L3 feed adds an order id that is live
    VENUE_BAD_BOOK = 4  #: the venue flagged the book (Databento ``F_MAYBE_BAD_BOOK``)
    CHECKSUM_MISMATCH = 5  #: the venue's checksum disagrees with the rebuilt book
    SEQUENCE_REGRESSION = 6  #: the venue's sequence number went backwards
    SEQUENCE_GAP = 7  #: an update id is missing and no reordering can supply it

    @property
    def label(self) -> str:
        """The name used in ``report.json`` (``negative_size``, ``checksum_mismatch``, ...)."""
        return self.name.lower()


class MessageStatus(IntEnum):
    """What the L2 sequencer did with one venue message."""

    UNSEEN = -1
    APPLIED = 0
    REORDERED = 1  #: applied after a later-numbered message
    STALE = 2  #: older than the snapshot it was offered to
    DUPLICATE = 3  #: its ids were already applied
    UNSYNCED = 4  #: never applied: no snapshot followed it
    SNAPSHOT = 5

    @property
    def label(self) -> str:
        return self.name.lower()


class Link(IntEnum):
    """How a venue message's update ids chain to the previous one's."""

    NONE = 0  #: no ids: diffs apply in arrival order after a snapshot
    FIRST = 1  #: ``first_id == previous last_id + 1`` (Binance spot ``U``, Bybit ``u``)
    PREV = 2  #: ``prev_id == previous last_id`` (Binance futures ``pu``)


class Resync(IntEnum):
    """What the L2 sequencer does with diffs that cannot be linked (before the first snapshot, or
    after a gap)."""

    SNAPSHOT = 0  #: hold them for the next snapshot (live captures with REST snapshots)
    CONTINUE = 1  #: apply them from the id received, the book invalid until the next snapshot
    #: (history files: no snapshot can be requested, the gap is flagged on the message after it)


class Checksum(IntEnum):
    """Which venue checksum the replayer verifies at the end of each message."""

    NONE = 0
    KRAKEN = 1  #: CRC32 over the top 10 levels, unsigned
    OKX = 2  #: signed CRC32 over the top 25 levels, interleaved, canonical decimals
    BITGET = 3  #: the OKX layout over the strings as sent (fixed decimals)

    @classmethod
    def of(cls, name: str | None) -> "Checksum":
        """``None`` / ``"kraken"`` / ``"okx"`` / ``"bitget"`` -> the code."""
        return cls.NONE if name is None else cls[name.upper()]


class CrossedKind(IntEnum):
    """A crossed-book episode (best bid > best ask over consecutive rows), classified by trading
    (:mod:`obrecon_pipeline.integrity.crossed`, :mod:`obrecon_pipeline.replay._crossed`)."""

    CONTINUOUS = 0  #: traded while crossed, ended without a trade, or never ended: an error
    PRE_OPEN = 1  #: nothing traded while crossed and trading starting ended it: a call phase

    @property
    def label(self) -> str:
        """The name used in ``report.json`` (``continuous``, ``pre_open``)."""
        return self.name.lower()
