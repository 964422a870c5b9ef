"""The seed of one simulated day: a hash of the run's seed, the date and the symbol.

Every (seed, date, symbol) gets its own 64-bit seed (BLAKE2b, 8 bytes, little-endian), so a day's
files do not depend on which other days or symbols the same run writes.
"""

from __future__ import annotations

import hashlib


def day_seed(seed: int, date: str, symbol: str) -> int:
    digest = hashlib.blake2b(f"{seed}/{date}/{symbol}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")
