"""The Dagster layer: thin assets over the core, their checks, partitions, jobs and sensors.

Modules by domain: :mod:`assets.book` (reconstruction), :mod:`assets.book_checks` (integrity),
:mod:`assets.breaker` (blocking integrity checks, forcing past them), :mod:`assets.alerts` (the
alert sensor), :mod:`assets.partitions`, :mod:`assets.sensors`; :mod:`assets.materialize` runs the main job from
the shell (in process, its step outputs not kept: :mod:`assets.execution`). Everything is assembled into one ``Definitions`` in :mod:`assets.definitions`.

The package sets ``POLARS_FORCE_ASYNC=1`` (unless the environment already sets it) before anything
imports Polars, so every process of the code location (code server, run worker, step
subprocesses, which inherit it, and ``obrecon-materialize``) reads Parquet through Polars' async
reader instead of a memory map. A query of the streaming engine over a whole table (the interval
mids and returns of a day's book) keeps every page of the mapped file it has read resident until it
ends: on a 50 M-event day that was 560-830 MiB of file-backed RSS inside ``fidelity_report``,
``market_impact`` and ``returns``, on top of the steps' own memory; read without the map, the
interval mids of that book peak at 258 + 70 MiB anonymous + file RSS against 91 + 626
(a standalone measurement; the whole job's figures, ``benchmarks/dagster_scale.py``, are in the README). The results are
the same: only how the file's bytes are fetched changes. Polars reads the variable once, when it is
first imported, so it is set here and not in a resource.
"""

import os

#: Polars' switch for the async (object-store) Parquet reader, read once when Polars is first imported
POLARS_FORCE_ASYNC = "POLARS_FORCE_ASYNC"
os.environ.setdefault(POLARS_FORCE_ASYNC, "1")
