"""Per-symbol update ids from a sequence number shared by a whole websocket connection.

Some venues number every message of a connection, all channels and symbols together (Bitfinex
``SEQ_ALL``, Blockchain.com ``seqnum``). One symbol's book messages then skip the numbers of the
other channels, but a book message still chains to the symbol's previous book message ``P`` when
every connection number between them was received. :class:`ConnectionSequence` gives a book
message with connection number ``s`` the id range ``first_id = max(P + 1, R)``, ``last_id = s``,
where ``R`` is the first number of the unbroken run of received numbers that ends at ``s``. With
``Sequencing(link="first")`` a hole in the connection sequence after ``P`` gives ``first_id = R >
P + 1``: a gap (expected ``P + 1``, received ``R``), because the lost message may have been this
book's. A number at or below one already seen leaves the run unchanged (a repeat: ``last_id <= P``
is dropped as a duplicate by the sequencer).
"""

from __future__ import annotations


class ConnectionSequence:
    """Track the connection's received numbers in arrival order (call :meth:`see` for each one)."""

    def __init__(self) -> None:
        self.prev: int | None = None  #: highest number received so far
        self.run_start: int | None = None  #: first number of the unbroken run ending at ``prev``

    def see(self, seq: int) -> None:
        if self.prev is None or seq > self.prev + 1:
            self.run_start = seq  # the first message, or a hole before this one
        self.prev = seq if self.prev is None else max(self.prev, seq)

    def first_id(self, seq: int, last_book: int | None) -> int:
        """``first_id`` of a book message numbered ``seq`` whose book's previous message was ``last_book``."""
        first = self.run_start if last_book is None else max(last_book + 1, self.run_start)
        return min(first, seq)
