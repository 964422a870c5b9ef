"""The code location ``obrecon_pipeline``: one ``Definitions`` object (``assets.definitions:defs``,
named in ``workspace.yaml`` and ``[tool.dagster]``).

It sits on top of everything: assets and checks are collected from their modules (a new asset or
check module is one line in :data:`ASSET_MODULES`), resources come from :mod:`resources`, and the
executor and console logger from :mod:`resources.deployment` (Celery when
``OBRECON_CELERY_BROKER`` is set): the same code runs on a laptop and on a cluster.
"""

from __future__ import annotations

import dagster as dg

from assets import (book, book_checks, cross_venue, feed_integrity, features, fidelity, fidelity_checks, landing,
                    snapshot_checks)
from assets.alerts import alert_sensor
from assets.breaker import force_downstream_job
from assets.sensors import cross_venue_sensor_for, daily_schedule_for, landing_zone_sensor_for
from assets.warehouse import warehouse_sensor
from resources import resources_for
from resources.deployment import executor_for

#: the modules whose assets and asset checks make up the code location
ASSET_MODULES = (landing, book, book_checks, feed_integrity, snapshot_checks, fidelity, fidelity_checks, features,
                 cross_venue)
ASSETS = dg.load_assets_from_modules(ASSET_MODULES)
CHECKS = dg.load_asset_checks_from_modules(ASSET_MODULES)

#: the main job: every asset of a stream-day partition, with its checks (the book's own
#: Materialize button runs only events, reference_book and book, the multi-asset's outputs)
#: the assets partitioned by stream-day (everything but the per-day cross-venue comparison)
STREAM_DAY_ASSETS = dg.AssetSelection.all() - dg.AssetSelection.groups(cross_venue.GROUP)

reconstruct_job = dg.define_asset_job(
    "reconstruct",
    selection=STREAM_DAY_ASSETS,
    description="Parse, replay and check one stream-day (and everything downstream of the book)",
)
#: per trading day, after its books: every configured venue pair compared (partitioned by day)
cross_venue_job = dg.define_asset_job(
    "compare_venues",
    selection=dg.AssetSelection.groups(cross_venue.GROUP),
    description="Compare the books of each configured venue pair on one trading day and check they follow each other",
)

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[reconstruct_job, force_downstream_job, cross_venue_job],
    sensors=[landing_zone_sensor_for(reconstruct_job), cross_venue_sensor_for(cross_venue_job), warehouse_sensor,
             alert_sensor],
    schedules=[daily_schedule_for(reconstruct_job)],
    resources=resources_for(),
    executor=executor_for(),
)
