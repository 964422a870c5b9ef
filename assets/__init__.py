"""The Dagster layer: thin assets over the core, their checks, partitions, jobs and sensors.

Modules by domain: :mod:`assets.book` (reconstruction), :mod:`assets.book_checks` (integrity),
:mod:`assets.breaker` (blocking integrity checks, forcing past them), :mod:`assets.alerts` (the
alert sensor), :mod:`assets.partitions`, :mod:`assets.sensors`; :mod:`assets.materialize` runs the main job from
the shell. Everything is assembled into one ``Definitions`` in :mod:`assets.definitions`.
"""
