"""The landing-zone sensor and the daily schedule, evaluated with real contexts on a temporary
landing zone: new days are registered in order and requested, a changed file is observed with its
new data version and re-requested, nothing new is a skip; the schedule asks for what landed the
day before."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import shutil

import dagster as dg
import pytest

from assets.definitions import defs
from assets.landing import observed_versions
from assets.partitions import DAYS, STREAMS, partition_key
from resources import LandingZone
from tests.conftest import RAW

AAPL = "AAPL_2012-06-21_34200000_57600000_{}_10.csv.gz"


def _land(root, day: str) -> None:
    """The AAPL level-10 cut landed again under ``day`` (a LOBSTER name carries the day)."""
    dest = root / "raw" / "lobster" / day
    dest.mkdir(parents=True)
    for kind in ("message", "orderbook"):
        shutil.copy(root / "raw" / "lobster" / "2012-06-21" / AAPL.format(kind), dest / AAPL.format(kind).replace("2012-06-21", day))


@pytest.fixture
def instance():
    """A persistent temporary instance (a sensor context resolves dynamic partitions through it)."""
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def zone(small_landing_zone):
    _land(small_landing_zone, "2012-06-25")
    return small_landing_zone


def _expected_version(day_dir) -> str:
    lines = sorted(f"{p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}\n" for p in day_dir.glob("*.csv.gz"))
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _evaluate_sensor(instance, root, cursor=None):
    sensor = defs.get_repository_def().get_sensor_def("landing_zone_sensor")
    with dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), cursor=cursor, resources={"landing_zone": LandingZone(root=str(root))},
                                 repository_def=defs.get_repository_def()) as context:
        return sensor.evaluate_tick(context)


def _apply(instance, result) -> None:
    """What the daemon does with a sensor result's observations before launching its runs."""
    for event in result.asset_events:
        instance.report_runless_asset_event(event)


def test_sensor_registers_new_days_in_order_and_rematerializes_a_changed_file(zone, instance):
    first = _evaluate_sensor(instance, zone)
    ids = ["lobster/AAPL-L10/2012-06-21", "lobster/AAPL-L10/2012-06-25"]
    assert [r.partition_key for r in first.run_requests] == [str(partition_key(i)) for i in ids]
    assert all(r.tags["obrecon/automation"] == "landing_zone_sensor" for r in first.run_requests)
    # data version = sha256 over "<name> <sha256 of the file>" lines, sorted by name
    versions = {e.metadata["stream_day"].value: e.tags["dagster/data_version"] for e in first.asset_events}
    assert versions == {i: _expected_version(zone / "raw" / "lobster" / i[-10:]) for i in ids}
    assert instance.get_dynamic_partitions(DAYS.name) == ["2012-06-21", "2012-06-25"]
    assert instance.get_dynamic_partitions(STREAMS.name) == ["AAPL-L10"]
    _apply(instance, first)
    assert observed_versions(instance) == versions

    # nothing new: a skip, whether the cursor is kept or rebuilt from the instance
    assert _evaluate_sensor(instance, zone, first.cursor).skip_message.startswith("nothing new or changed")
    assert _evaluate_sensor(instance, zone, None).run_requests == []

    # a day lands in between, and a file of the first day is re-landed with other bytes
    _land(zone, "2012-06-22")
    msg = zone / "raw" / "lobster" / "2012-06-21" / AAPL.format("message")
    msg.write_bytes(gzip.compress(gzip.decompress(msg.read_bytes()), compresslevel=1, mtime=0))
    second = _evaluate_sensor(instance, zone, first.cursor)
    changed = ["lobster/AAPL-L10/2012-06-21", "lobster/AAPL-L10/2012-06-22"]
    assert [r.partition_key for r in second.run_requests] == [str(partition_key(i)) for i in changed]
    new_version = json.loads(second.cursor)["lobster/AAPL-L10/2012-06-21"]
    assert new_version == _expected_version(msg.parent) != versions["lobster/AAPL-L10/2012-06-21"]
    assert second.run_requests[0].run_key == f"lobster/AAPL-L10/2012-06-21@{new_version[:16]}"
    assert instance.get_dynamic_partitions(DAYS.name) == ["2012-06-21", "2012-06-22", "2012-06-25"]


def test_a_sensor_tick_reads_only_what_landed_since_the_last(zone, instance):
    first = _evaluate_sensor(instance, zone)
    _apply(instance, first)
    # a landed file's bytes replaced behind its unchanged size and modification time: a tick that
    # read or hashed it again would see a new version (or fail to parse it)
    msg = zone / "raw" / "lobster" / "2012-06-25" / AAPL.format("message").replace("2012-06-21", "2012-06-25")
    st = msg.stat()
    msg.write_bytes(b"\0" * st.st_size)
    os.utime(msg, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _evaluate_sensor(instance, zone, first.cursor).skip_message.startswith("nothing new or changed")
    # a cryptofeed day lands: its streams, and only they, are observed and requested
    shutil.copytree(RAW / "cryptofeed" / "2021-10-12", zone / "raw" / "cryptofeed" / "2021-10-12")
    second = _evaluate_sensor(instance, zone, first.cursor)
    landed = [f"cryptofeed/{venue}-{sym}/2021-10-12" for venue, sym in (
        ("BINANCE", "BLZETH"), ("BINANCE", "LRCBTC"), ("BINANCE", "NKNUSDT"), ("BINANCE", "RUNEEUR"),
        ("BINANCE_US", "COMPUSDT"), ("BINANCE_US", "CRVUSDT"), ("BINANCE_US", "OMGBUSD"), ("BINANCE_US", "ZRXUSDT"))]
    assert [r.partition_key for r in second.run_requests] == [str(partition_key(i)) for i in landed]
    assert sorted(e.metadata["stream_day"].value for e in second.asset_events) == landed
    assert json.loads(second.cursor)["lobster/AAPL-L10/2012-06-25"] == json.loads(first.cursor)["lobster/AAPL-L10/2012-06-25"]
    assert instance.get_dynamic_partitions(DAYS.name) == ["2012-06-21", "2012-06-25", "2021-10-12"]


def test_schedule_requests_what_landed_the_previous_day(zone, instance):
    schedule = defs.get_repository_def().get_schedule_def("daily_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED

    def evaluate(when: dt.datetime):
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                       resources={"landing_zone": LandingZone(root=str(zone))},
                                       repository_def=defs.get_repository_def()) as context:
            return schedule.evaluate_tick(context)

    data = evaluate(dt.datetime(2012, 6, 26, 6, 0, tzinfo=dt.timezone.utc))
    assert [(r.partition_key, r.tags["obrecon/automation"]) for r in data.run_requests] == [
        ("AAPL-L10|2012-06-25", "daily_schedule")]
    assert instance.get_dynamic_partitions(DAYS.name) == ["2012-06-25"]
    assert "lobster/AAPL-L10/2012-06-25" in observed_versions(instance)
    empty = evaluate(dt.datetime(2012, 6, 27, 6, 0, tzinfo=dt.timezone.utc))
    assert empty.run_requests == [] and empty.skip_message.startswith("nothing landed for 2012-06-26")
