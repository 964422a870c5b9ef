"""Translation steps that several venue modules share (see the venue module interface in
:mod:`obrecon_pipeline.feeds.cryptofeed`).

* :func:`first_seen`: a venue's ``symbols()`` as the distinct symbols in order of appearance;
  :func:`symbols_where` makes the ``symbols()`` of venues that name the symbol in one member;
* :func:`type_problem`: the ``problem`` of venues whose messages say what they are in ``type``;
* :func:`triaged`: the records worth reading, each other one quarantined with the reason a venue's
  ``problem(body)`` gives (:func:`object_problem` is the common one: not a JSON object, an error);
* :func:`message_of_kind`: a snapshot or a diff by the name the message gives its kind;
* :func:`split_sides`: ``(side, price, size)`` changes into ``(bids, asks)``;
* :func:`rest_symbol`: the symbol a REST book request asked for;
* :data:`MALFORMED` / :func:`malformed`: the errors a message missing a field or holding one of the
  wrong type raises while it is read, and the quarantine reason naming them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator

from obrecon_pipeline.feeds.cryptofeed.capture import Capture, Record
from obrecon_pipeline.feeds.l2.messages import BookMessages

BUY_SELL = {"buy": 0, "sell": 1}
MALFORMED = (KeyError, TypeError, ValueError)


def first_seen(symbols: Iterable) -> list:
    """The distinct values of ``symbols`` in the order they first appear."""
    return list(dict.fromkeys(symbols))


def symbols_where(field: str, **where: Collection[str]) -> Callable[[Capture], list]:
    """A venue's ``symbols(ws)``: the distinct ``body[field]`` of the JSON objects whose members
    named in ``where`` hold one of the values given there, in order of appearance."""

    def symbols(ws: Capture) -> list:
        return first_seen(rec.body.get(field) for rec in ws.received()
                          if isinstance(rec.body, dict) and all(rec.body.get(k) in v for k, v in where.items()))

    return symbols


def triaged(book: BookMessages, records: Iterable[Record],
            problem: Callable[[object], str | None]) -> Iterator[Record]:
    """The records whose body ``problem`` has nothing against (``None``); the others are quarantined
    in ``book`` with the reason it returns."""
    for rec in records:
        reason = problem(rec.body)
        if reason is None:
            yield rec
        else:
            book.quarantine(rec, reason)


def type_problem(known: Iterable[str], prefixes: tuple[str, ...] = ()) -> Callable[[object], str | None]:
    """A venue's ``problem(body)``: nothing against a JSON object whose ``type`` is one of ``known``
    (or starts with one of ``prefixes``); otherwise ``"message type 'x'"``, with the venue's
    ``message`` for an ``error``."""
    known = frozenset(known)

    def problem(body) -> str | None:
        kind = body.get("type") if isinstance(body, dict) else None
        if kind in known or (prefixes and str(kind).startswith(prefixes)):
            return None
        return f"message type {kind!r}" + (f": {body.get('message')}" if kind == "error" else "")

    return problem


def object_problem(body, what: str, error: str | None = "error {}") -> str | None:
    """``"not <what>"`` unless ``body`` is a JSON object; ``error`` formatted with its ``"error"``
    member when it has one (``error=None``: not checked)."""
    if not isinstance(body, dict):
        return f"not {what}"
    if error is not None and "error" in body:
        return error.format(body["error"])
    return None


def message_of_kind(book: BookMessages, rec: Record, kind, snapshot: str, diff: str, what: str,
                    bids, asks, **ids) -> None:
    """:meth:`BookMessages.message` of a message whose ``kind`` names it a ``snapshot`` or a ``diff``
    (``ids`` as that method takes them); any other kind is quarantined as ``"<what> 'kind'"``."""
    if kind == snapshot or kind == diff:
        book.message(rec, kind == snapshot, bids, asks, **ids)
    else:
        book.quarantine(rec, f"{what} {kind!r}")


def split_sides(changes, sides: dict = BUY_SELL) -> tuple[list, list]:
    """``[(side, price, size), ...]`` -> ``(bids, asks)`` of ``(price, size)``; ``sides`` maps the
    venue's side names to 0 (bid) / 1 (ask), an unknown side is a ``KeyError``."""
    out: tuple[list, list] = ([], [])
    for side, price, size in changes:
        out[sides[side]].append((price, size))
    return out


def rest_symbol(rec: Record, pattern: re.Pattern) -> str | None:
    """Group 1 of ``pattern`` in the record's URL (the symbol of a REST book request), else None."""
    m = pattern.search(rec.url or "")
    return None if m is None else m.group(1)


def malformed(what: str, exc: Exception) -> str:
    """The quarantine reason of a message whose reading raised one of :data:`MALFORMED`."""
    return f"malformed {what} ({type(exc).__name__}: {exc})"
