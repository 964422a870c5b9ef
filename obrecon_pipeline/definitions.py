"""The code location: one ``Definitions`` object (``obrecon_pipeline.definitions:defs``).

This is the only module of the package that imports Dagster; it just assembles the top-level
``assets`` and ``resources`` packages, which hold the Dagster layer.
"""

from __future__ import annotations

import dagster as dg

from assets import book, book_checks, fidelity, fidelity_checks
from assets.feed_integrity import feed_integrity
from assets.sensors import landing_zone_sensor_for
from resources import resources_for

ASSETS = [book.replay_partition, *fidelity.FIDELITY_ASSETS]
CHECKS = [book_checks.no_crossed_book, book_checks.reference_match, feed_integrity, *fidelity_checks.FIDELITY_CHECKS]

#: the main job: every asset of a stream-day partition, with its checks
reconstruct_job = dg.define_asset_job(
    "reconstruct",
    selection=dg.AssetSelection.all(),
    description="Parse, replay and check one stream-day (and everything downstream of the book)",
)

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[reconstruct_job],
    sensors=[landing_zone_sensor_for(reconstruct_job)],
    resources=resources_for(),
)
