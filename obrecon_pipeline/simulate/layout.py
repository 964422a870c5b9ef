"""Where simulated days land: LOBSTER's own file names in the landing zone, weekdays only.

``<root>/raw/lobster/<YYYY-MM-DD>/<SYM>_<YYYY-MM-DD>_34200000_57600000_{message,orderbook}_<L>.csv``
(``.csv.gz`` when compressed): the names the LOBSTER parser finds by its ``MESSAGE_RE``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from obrecon_pipeline.errors import ObreconError

SESSION = "34200000_57600000"  #: 09:30:00.000 to 16:00:00.000 in ms after midnight
TICKER_RE = re.compile(r"[A-Za-z0-9.^]+")  #: what LOBSTER file names allow as a ticker


def day_files(root: Path, symbol: str, day: str, levels: int, compress: bool) -> tuple[Path, Path]:
    """``(message file, orderbook file)`` of one symbol's day."""
    if not TICKER_RE.fullmatch(symbol):
        raise ObreconError(f"symbol {symbol!r} cannot be a LOBSTER ticker (letters, digits, '.', '^')")
    folder = Path(root) / "raw" / "lobster" / day
    suffix = ".csv.gz" if compress else ".csv"
    stem = f"{symbol}_{day}_{SESSION}"
    return folder / f"{stem}_message_{levels}{suffix}", folder / f"{stem}_orderbook_{levels}{suffix}"


def weekdays(start: date, end: date) -> list[date]:
    """Monday to Friday from ``start`` to ``end`` inclusive (no holiday calendar)."""
    if end < start:
        raise ObreconError(f"end {end} is before start {start}")
    days = (start + timedelta(k) for k in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5]
