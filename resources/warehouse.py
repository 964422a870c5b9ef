"""The ``io_manager``: every asset of a partition is stored in that partition's run set and the set is
committed whole (:mod:`obrecon_pipeline.storage.warehouse` has the layout and the protocol).

What an asset returns decides how it is written, always atomically into
``warehouse/runs/<stream>/<day>/<run_id>/``:

* a :class:`pathlib.Path`: a table the step already wrote (the replay's Parquet files, written row
  group by row group by :func:`obrecon_pipeline.pipeline.run_stream`), moved into the set;
* a :class:`~obrecon_pipeline.metrics.batches.Batched` table: its frames (slices of the book) written
  one Parquet row group each as they are computed (:meth:`~obrecon_pipeline.metrics.batches.Batched.write_parquet`),
  so the day's table is never held whole;
* a ``pl.LazyFrame``: streamed to Parquet (dagster-polars' ``sink_df_to_path``: never collected whole);
* a ``pl.DataFrame``: written to Parquet (dagster-polars' ``write_df_to_path``);
* a ``dict``: JSON (the run's ``report.json``).

When the last asset the run planned for the partition has been stored, the set is committed; its
stable paths ``warehouse/<asset>/<stream>/<day>.parquet`` and ``reports/<stream-day id>/report.json``
then point at it. Inputs are read from the run's own set when the run built them, else from the
committed set: a ``pl.LazyFrame`` parameter gets ``pl.scan_parquet`` (bounded), ``pl.DataFrame``
the table read whole, ``dict`` the JSON. Each input is read through a pin (a hard link held until
the step ends), so a later run's commit that removes the set cannot pull it from under a lazy scan.

On an object-store root (``root`` an fsspec URL, :mod:`obrecon_pipeline.storage.objects`) the same
steps run over this machine's working copy ``work``: every table is written there and uploaded to
the run's set in the store, inputs are downloaded into it, and the commit switches the store's
pointer; nothing else differs.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import PrivateAttr
import pyarrow.parquet as pq
from dagster_polars import PolarsParquetIOManager
from upath import UPath

from obrecon_pipeline.atomic import atomic_path, write_json
from obrecon_pipeline.metrics.batches import Batched
from obrecon_pipeline.storage.objects import ObjectPartitionStore, ObjectRoot, is_object_url
from obrecon_pipeline.storage.warehouse import PartitionStore, release

#: the asset whose value is a JSON document, not a table
REPORT = "report"
#: asset keys planned per run (read once from the run's execution plan)
_PLANNED: dict[str, frozenset[dg.AssetKey]] = {}


def table_file(key: dg.AssetKey) -> str:
    name = key.path[-1]
    return f"{name}.json" if name == REPORT else f"{name}.parquet"


def object_root(root: str | Path, work: str | Path) -> ObjectRoot | None:
    """The object-store root ``root`` with the working copy ``work``; None for a local root."""
    return ObjectRoot(str(root), Path(work)) if is_object_url(root) else None


def partition_store(root: str | Path, partition_key: str, work: str | Path = "") -> PartitionStore | ObjectPartitionStore:
    """The store of a stream × day partition key (``GOOG-L10|2012-06-21``: the dimensions in name
    order, ``stream`` then ``trading_day``): under ``<root>/warehouse``, on the object store when
    ``root`` is a URL (``work`` its working copy)."""
    stream, day = partition_key.split("|")
    objects = object_root(root, work)
    return objects.store(stream, day) if objects else PartitionStore(Path(root) / "warehouse", stream, day)


def _per_day(partition_key: str) -> bool:
    """A key of the day-only partitions (``2024-08-08``), not of a stream × day (``GOOG-L10|2012-06-21``)."""
    return "|" not in partition_key


def day_table(root: str | Path, key: dg.AssetKey, day: str) -> Path:
    """Where a table partitioned by day alone lives: ``<root>/warehouse/<asset>/<day>.parquet``
    (on an object-store root: in the working copy, ``root`` being ``work``)."""
    return Path(root) / "warehouse" / key.path[-1] / f"{day}.parquet"


def report_link(root: str | Path, stream_day: str, work: str | Path = "") -> str:
    """The stable path of a partition's report: ``<root>/reports/<stream-day id>/report.json``
    (the store's key of that copy on an object-store root)."""
    parts = ("reports", stream_day, "report.json")
    objects = object_root(root, work)
    return objects.key(*parts) if objects else str(Path(root).joinpath(*parts))


def _planned(step_context) -> frozenset[dg.AssetKey]:
    """The assets the run materializes (its execution plan, as stored in the instance)."""
    run = step_context.dagster_run
    if run.run_id not in _PLANNED:
        snap = step_context.instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
        todo = set(snap.step_keys_to_execute)
        _PLANNED[run.run_id] = frozenset(
            o.properties.asset_key for s in snap.steps if s.key in todo for o in s.outputs
            if o.properties is not None and o.properties.is_asset and o.properties.asset_key is not None
            and o.properties.asset_check_key is None)
    return _PLANNED[run.run_id]


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Stores each partition's assets as one committed set under ``<root>/warehouse`` (a local or
    mounted file system: the commit renames a symbolic link; an object store: the commit swaps its
    pointer object, ``work`` being this machine's working copy)."""

    root: str
    work: str = ""
    #: this process's pin directories (``PartitionStore.pin``), released when the step ends
    _pinned: set = PrivateAttr(default_factory=set)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        for pins in self._pinned:
            release(pins)
        self._pinned.clear()

    def _polars(self) -> PolarsParquetIOManager:
        """dagster-polars' Parquet reader and writer (its options: the asset's ``definition_metadata``)."""
        polars_io = PolarsParquetIOManager(base_dir=self.work or self.root)
        polars_io.setup_for_execution(None)  # with base_dir given, it needs no init context
        return polars_io

    def _write_frame(self, context: dg.OutputContext, obj: pl.LazyFrame | pl.DataFrame | Batched, dest: Path) -> None:
        """``obj`` as Parquet at ``dest``, atomically, written by dagster-polars (a LazyFrame streamed),
        or a :class:`Batched` table one row group per frame."""
        polars_io = self._polars()
        with atomic_path(dest) as tmp:
            if isinstance(obj, Batched):
                obj.write_parquet(tmp)
            elif isinstance(obj, pl.LazyFrame):
                polars_io.sink_df_to_path(context, obj, UPath(tmp))
            else:
                polars_io.write_df_to_path(context, obj, UPath(tmp))

    @property
    def _objects(self) -> ObjectRoot | None:
        return object_root(self.root, self.work)

    def _store(self, context) -> PartitionStore | ObjectPartitionStore:
        return partition_store(self.root, context.asset_partition_key, self.work)

    def handle_output(self, context: dg.OutputContext, obj) -> None:
        if obj is None:
            return
        if _per_day(context.asset_partition_key):
            self._write_day_table(context, obj)
            return
        store, file = self._store(context), table_file(context.asset_key)
        dest = store.run_dir(context.run_id) / file
        if isinstance(obj, Path):
            store.put(context.run_id, file, obj)
        elif isinstance(obj, dict):
            write_json(obj, dest)
            store.publish(context.run_id, file)
        elif isinstance(obj, (pl.LazyFrame, pl.DataFrame, Batched)):
            self._write_frame(context, obj, dest)  # the commit protocol places it
            store.publish(context.run_id, file)
        else:
            raise TypeError(f"{context.asset_key.to_user_string()}: cannot store a {type(obj).__name__}")
        if file.endswith(".parquet"):
            context.add_output_metadata({"path": dg.MetadataValue.path(str(store.stable(file))),
                                         "dagster/row_count": dg.MetadataValue.int(pq.read_metadata(dest).num_rows)})
        self._commit_if_complete(context, store)

    def _commit_if_complete(self, context: dg.OutputContext, store: PartitionStore | ObjectPartitionStore) -> None:
        planned = _planned(context.step_context)
        if not all(store.has(context.run_id, table_file(k)) for k in planned):
            return
        graph = context.step_context.job_def.asset_layer.asset_graph
        self._commit(context.log, store, context.run_id,
                     {table_file(k): [table_file(p) for p in graph.get(k).parent_keys] for k in planned})

    def commit_stored(self, context: dg.AssetCheckExecutionContext) -> None:
        """Commit what the run stored for the check's partition so far: a blocking check that failed
        holds the rest of the run back (:mod:`assets.breaker`), so its book, events and report are
        the partition's new set and the tables built from the old book are dropped with it."""
        op = context.op_execution_context
        store = partition_store(self.root, context.partition_key, self.work)
        graph = op.job_def.asset_layer.asset_graph
        tables = {table_file(k): [table_file(p) for p in graph.get(k).parent_keys]
                  for k in graph.get_all_asset_keys() if store.has(op.run_id, table_file(k))}
        if tables:
            self._commit(context.log, store, op.run_id, tables)

    def _commit(self, log, store: PartitionStore | ObjectPartitionStore, run_id: str, tables: dict[str, list[str]]) -> None:
        links = {}
        report = table_file(dg.AssetKey(REPORT))
        if report in tables:
            stream_day = json.loads(store.locate(run_id, report).read_text())["stream"]
            links[report] = report_link(self.root, stream_day, self.work)
        store.commit(run_id, tables, links)
        log.info(f"{store.stream}/{store.day}: committed run {run_id[:8]} ({len(tables)} tables of this run) "
                 "as the partition's set")

    def load_input(self, context: dg.InputContext):
        keys = context.asset_partition_keys
        if len(keys) != 1 or not isinstance(context.dagster_type.typing_type, type):
            return {key: self._load(context, key) for key in keys}  # ``dict[str, pl.LazyFrame]``: every partition
        return self._load(context, keys[0])

    def _load(self, context: dg.InputContext, partition_key: str):
        file = table_file(context.asset_key)
        if _per_day(partition_key):
            path = day_table(self.work or self.root, context.asset_key, partition_key)
            objects = self._objects
            if objects is not None:
                objects.fetch(objects.key(*path.relative_to(self.work).parts), path)
            where = partition_key
        else:
            store = partition_store(self.root, partition_key, self.work)
            path, where = store.pin(context.step_context.run_id, file), f"{store.stream}/{store.day}"
            if path is not None:
                self._pinned.add(path.parent)
        if path is None or not path.exists():
            raise dg.Failure(description=f"{context.asset_key.to_user_string()} of {where} "
                                         "is not in the warehouse: materialize it first")
        if file.endswith(".json"):
            return json.loads(path.read_text())
        frame = self._polars().scan_df_from_path(UPath(path), context)  # never collected here
        return frame.collect() if context.dagster_type.typing_type is pl.DataFrame else frame

    def _write_day_table(self, context: dg.OutputContext, obj) -> None:
        """A table partitioned by day alone (the cross-venue comparison of every pair): derived from
        committed stream-day sets, written atomically on its own at ``warehouse/<asset>/<day>.parquet``."""
        if not isinstance(obj, (pl.LazyFrame, pl.DataFrame)):
            raise TypeError(f"{context.asset_key.to_user_string()}: cannot store a {type(obj).__name__}")
        dest = day_table(self.work or self.root, context.asset_key, context.asset_partition_key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._write_frame(context, obj, dest)
        objects, shown = self._objects, str(dest)
        if objects is not None:
            key = objects.key(*dest.relative_to(self.work).parts)
            objects.upload(dest, key)
            shown = objects.url_of(key)
        context.add_output_metadata({"path": dg.MetadataValue.path(shown),
                                     "dagster/row_count": dg.MetadataValue.int(pq.read_metadata(dest).num_rows)})
