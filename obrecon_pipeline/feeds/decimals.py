"""Exact decimal strings -> scaled integers, vectorised in Polars (never through a float).

A venue writes prices and sizes as decimal text (``"1.9531"``, ``"6203"``, ``"1e-05"``). The
normalized event table stores ``value * 10**d`` as Int64 with a constant scale ``10**d`` per
column. For a string with sign ``s``, significant digits ``D`` (fraction digits appended to the
integer digits, trailing zeros removed and counted in the exponent) and exponent ``e``,

    value = s * D * 10**e,        scaled = s * D * 10**(d + e),

which is exact whenever ``d + e >= 0`` and ``D * 10**(d + e) < 10**18`` (so it fits in Int64).
The column's ``d`` is the largest number of decimals written in it (``len(fraction) - exponent``),
unless the caller imposes one (for instance the scale of the stream a reference book is compared
with).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from obrecon_pipeline.errors import InputError

#: sign, integer digits, fraction digits, exponent
_DECIMAL = r"^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$"
#: 10**18 < 2**63: at most 18 significant digits after scaling
_MAX_DIGITS = 18


def scaled_integers(
    values: pl.Series,
    *,
    path: str | Path,
    rows: pl.Series | np.ndarray,
    what: str,
    decimals: int | None = None,
) -> tuple[pl.Series, int]:
    """Parse decimal strings exactly; return ``(Int64 series of value * 10**d, d)``.

    ``rows`` holds the 1-based source row of each value, used to name the first bad value in the
    :class:`InputError` (text that is not a decimal number, or a value that does not fit at the
    scale). ``decimals`` imposes ``d``; by default it is the most decimals written in the column.
    """
    rows = pl.Series("row", rows, dtype=pl.Int64)
    parts = (
        pl.DataFrame({"text": values.cast(pl.String), "row": rows})
        .with_columns(m=pl.col("text").str.extract_groups(_DECIMAL))
        .unnest("m")
        .rename({"1": "sign", "2": "int", "3": "frac", "4": "exp"})
        .with_columns(
            pl.col("frac").fill_null(""),
            pl.col("exp").cast(pl.Int64).fill_null(0),
        )
        .with_columns(
            ok=pl.col("int").is_not_null()
            & ((pl.col("int").str.len_chars() + pl.col("frac").str.len_chars()) > 0),
            written=(pl.col("frac").str.len_chars().cast(pl.Int64) - pl.col("exp")).clip(0),
            all_digits=(pl.col("int") + pl.col("frac")).str.strip_chars_start("0"),
        )
    )
    bad = parts.filter(~pl.col("ok"))
    if bad.height:
        raise InputError(path, bad["row"][0], f"{what} {bad['text'][0]!r} is not a decimal number")
    chosen = decimals is None
    if chosen:
        decimals = int(parts["written"].max() or 0) if parts.height else 0
    digits = pl.col("all_digits")
    significant = digits.str.strip_chars_end("0")
    trailing = digits.str.len_chars().cast(pl.Int64) - significant.str.len_chars().cast(pl.Int64)
    # value = significant * 10**e with e = exp - len(frac) + trailing zeros
    power = pl.lit(decimals, dtype=pl.Int64) + pl.col("exp") - pl.col("frac").str.len_chars().cast(
        pl.Int64
    ) + trailing
    parts = parts.with_columns(sig=significant, power=power).with_columns(
        power=pl.when(pl.col("sig") == "").then(0).otherwise(pl.col("power"))
    )
    out_of_grid = parts.filter(pl.col("power") < 0)
    if out_of_grid.height:
        raise InputError(
            path,
            out_of_grid["row"][0],
            f"{what} {out_of_grid['text'][0]!r} has more than {decimals} decimals",
        )
    too_big = parts.filter(pl.col("sig").str.len_chars().cast(pl.Int64) + pl.col("power") > _MAX_DIGITS)
    if too_big.height and chosen:
        # the scale is the one value written with the most decimals: that value is the cause
        finest = parts.row(int(parts["written"].arg_max()), named=True)
        raise InputError(
            path,
            finest["row"],
            f"{what} {finest['text']!r} has {decimals} decimals: at scale 10^{decimals} {what} "
            f"{too_big['text'][0]!r} (row {too_big['row'][0]}) does not fit a 64-bit integer",
        )
    if too_big.height:
        raise InputError(
            path,
            too_big["row"][0],
            f"{what} {too_big['text'][0]!r} does not fit a 64-bit integer at scale 10^{decimals}",
        )
    scaled = parts.select(
        (
            pl.when(pl.col("sig") == "")
            .then(pl.lit(0, dtype=pl.Int64))
            .otherwise(
                pl.col("sig").cast(pl.Int64)
                * pl.lit(10, dtype=pl.Int64).pow(pl.col("power").cast(pl.UInt32))
            )
            * pl.when(pl.col("sign") == "-").then(-1).otherwise(1)
        ).alias(values.name or "value")
    ).to_series()
    return scaled, decimals
