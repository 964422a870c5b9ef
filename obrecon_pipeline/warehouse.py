"""The DuckDB warehouse: one database of views over every Parquet table of every partition.

The Parquet IO manager stores each asset of a stream-day partition as
``<root>/warehouse/<table>/<stream>/<YYYY-MM-DD>.parquet`` (:data:`PARTITION_GLOB`), and the runs
write ``<root>/reports/<source>/<stream>/<YYYY-MM-DD>/report.json``. :func:`build` writes
``<root>/warehouse/obrecon.duckdb`` with

* one view per table directory (``book``, ``events``, ``spreads``, ``features``,
  ``fidelity_report``, ``check_results``, ...): ``stream`` and ``trading_day`` (a DATE, both taken
  from the file's path; null for a file not named by a date), then the table's own columns, over
  a glob of all its partitions (``union_by_name``: a partition with more book levels adds
  columns, null elsewhere);
* ``reports``: one row per ``report.json`` (``source``, ``stream``, ``trading_day``, then every
  report key, the report's own ``stream`` as ``stream_day``; nested values as DuckDB structs and
  lists: ``snapshot_drift.snapshots_disagree``, ``reference.match_rate``).

DuckDB binds a view's glob each time it is queried, so a partition materialized later appears in
every query without a rebuild; only a new table (a new directory) needs :func:`build` again.
Views hold absolute paths: a moved data root needs a rebuild. The file is written beside the
tables and renamed into place, so a researcher's open session keeps the old file and the next one
sees the new views.

Asset-check results are written per partition by :func:`write_check_results` into
``check_results/<stream>/<day>.parquet`` (:data:`CHECK_RESULT_SCHEMA`): one row per check, the
latest evaluation of each check replacing an earlier one.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import polars as pl

from obrecon_pipeline import atomic

DB_NAME = "obrecon.duckdb"
#: where a table's partitions are, under ``<root>/warehouse/<table>/`` (the IO manager's layout)
PARTITION_GLOB = "*/*.parquet"
REPORT_GLOB = "*/*/*/report.json"
CHECK_RESULTS = "check_results"
#: one row per asset check of a partition; ``status`` is passed / failed / skipped (the check was
#: planned but not judged: too few observations, or its asset was not materialized), ``value``,
#: ``threshold`` and ``n`` where the check reports them, every metadata entry in ``metadata`` (JSON)
CHECK_RESULT_SCHEMA: dict[str, pl.DataType] = {
    "stream_day": pl.Utf8,
    "asset": pl.Utf8,
    "check_name": pl.Utf8,
    "status": pl.Utf8,
    "passed": pl.Boolean,
    "severity": pl.Utf8,
    "value": pl.Float64,
    "threshold": pl.Utf8,
    "n": pl.Int64,
    "description": pl.Utf8,
    "metadata": pl.Utf8,
    "run_id": pl.Utf8,
    "evaluated_at": pl.Datetime("us", "UTC"),
}
_PATH = r"([^/]+)/([^/]+)\.parquet$"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def db_path(root: Path) -> Path:
    return Path(root) / "warehouse" / DB_NAME


def partition_path(root: Path, table: str, stream: str, day: str) -> Path:
    """``<root>/warehouse/<table>/<stream>/<day>.parquet``."""
    return Path(root) / "warehouse" / table / stream / f"{day}.parquet"


def tables(root: Path) -> list[str]:
    """The table directories under ``<root>/warehouse`` that hold at least one partition."""
    warehouse = Path(root) / "warehouse"
    if not warehouse.is_dir():
        return []
    return sorted(p.name for p in warehouse.iterdir()
                  if p.is_dir() and _NAME.match(p.name) and next(p.glob(PARTITION_GLOB), None) is not None)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def table_view(root: Path, table: str) -> str:
    """The ``CREATE VIEW`` statement of one table over all its partitions."""
    glob = _quote(str(Path(root).resolve() / "warehouse" / table / PARTITION_GLOB))
    return (
        f'CREATE VIEW "{table}" AS SELECT regexp_extract(filename, {_quote(_PATH)}, 1) AS stream, '
        f"TRY_CAST(regexp_extract(filename, {_quote(_PATH)}, 2) AS DATE) AS trading_day, * EXCLUDE (filename) "
        f"FROM read_parquet({glob}, filename = true, union_by_name = true)"
    )


def reports_view(root: Path) -> str:
    path = r"([^/]+)/([^/]+)/([^/]+)/report\.json$"
    glob = _quote(str(Path(root).resolve() / "reports" / REPORT_GLOB))
    return (
        f"CREATE VIEW reports AS SELECT regexp_extract(filename, {_quote(path)}, 1) AS source, "
        f"regexp_extract(filename, {_quote(path)}, 2) AS stream, "
        f"TRY_CAST(regexp_extract(filename, {_quote(path)}, 3) AS DATE) AS trading_day, "
        f"* EXCLUDE (filename) RENAME (stream AS stream_day) "
        f"FROM read_json({glob}, filename = true, union_by_name = true, maximum_object_size = 268435456)"
    )


def build(root: Path) -> dict[str, str]:
    """Write ``<root>/warehouse/obrecon.duckdb`` with a view per table and ``reports`` (see the
    module docstring); the view names and their SQL. Atomic: the previous file stays whole if this
    fails."""
    root = Path(root)
    views = {table: table_view(root, table) for table in tables(root)}
    if next((root / "reports").glob(REPORT_GLOB), None) is not None:
        views["reports"] = reports_view(root)
    dest = db_path(root)
    with atomic.atomic_path(dest) as tmp:
        tmp.unlink()  # DuckDB creates its own file
        with duckdb.connect(str(tmp)) as con:
            for sql in views.values():
                con.execute(sql)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return views


def write_check_results(root: Path, stream: str, day: str, results: pl.DataFrame) -> Path:
    """Merge ``results`` (:data:`CHECK_RESULT_SCHEMA`) into the partition's ``check_results``
    table: a check already there is replaced by its newer row, others are kept. Atomic."""
    results = results.select(pl.col(c).cast(t) for c, t in CHECK_RESULT_SCHEMA.items())
    dest = partition_path(root, CHECK_RESULTS, stream, day)
    if dest.exists():
        kept = pl.read_parquet(dest).join(results.select("asset", "check_name"), on=["asset", "check_name"], how="anti")
        results = pl.concat([kept, results])
    atomic.write_parquet(results.sort("asset", "check_name"), dest)
    return dest
