"""Cell-by-cell comparison of a replayed book with a reference book.

``match_rate = cells that match / cells compared``. Cells are compared as exact scaled integers;
a cell the replay marked unknown is not compared (it is reported as ``unknown``), an empty level
matches only an empty level.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from obrecon_pipeline.book_schema import FIELDS
from obrecon_pipeline.codes import UNKNOWN_CELL


@dataclass
class Match:
    rows_compared: int
    levels_compared: int
    cells_compared: int
    cells_matched: int
    unknown_cells: int
    mismatched_rows: int
    first_mismatch_row: int | None  #: index into the replayed book's rows
    first_mismatch_column: str | None

    @property
    def match_rate(self) -> float:
        return self.cells_matched / self.cells_compared if self.cells_compared else 1.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["match_rate"] = self.match_rate
        return d


def match_reference(cells: np.ndarray, row_event: np.ndarray, reference: np.ndarray) -> Match:
    """Compare replayed ``cells`` (rows at ``row_event``) with ``reference`` rows of those events."""
    levels = min(cells.shape[1], reference.shape[1]) // 4
    width = 4 * levels
    ours = cells[:, :width]
    theirs = reference[row_event, :width]
    known = ours != UNKNOWN_CELL
    bad = known & (ours != theirs)
    bad_rows = np.flatnonzero(bad.any(axis=1))
    first_row = first_col = None
    if bad_rows.size:
        first_row = int(bad_rows[0])
        j = int(np.flatnonzero(bad[first_row])[0])
        first_col = f"{FIELDS[j % 4]}_{j // 4 + 1}"
    compared = int(known.sum())
    return Match(
        rows_compared=int(cells.shape[0]),
        levels_compared=levels,
        cells_compared=compared,
        cells_matched=compared - int(bad.sum()),
        unknown_cells=int(ours.size - compared),
        mismatched_rows=int(bad_rows.size),
        first_mismatch_row=first_row,
        first_mismatch_column=first_col,
    )
