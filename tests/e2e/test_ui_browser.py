"""The UI in a real browser: Playwright for Python driving Debian's Chromium
(``executable_path="/usr/bin/chromium"``, no browser download) against the end-to-end deployment.
It opens the ``book`` partitions and reads one stream's days in date order, launches a one-stream
date-range backfill by clicking through the launch dialog, and opens the failing
``reference_match`` check of the damaged day, asserting the reason, the first bad row and value vs
threshold on the page. Screenshots go to the test's temporary directory."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.conftest import DAMAGED_DAY, LANDED, finished
from tests.e2e.services import executable, wait_for

#: what works as root in this sandbox (stack notes): no sandbox, no GPU, nothing phoned home
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BACKFILLS = """{ partitionBackfillsOrError(limit: 20) { ... on PartitionBackfills { results { id status
  partitionNames runs { runId status } } } } }"""
TIMEOUT_MS = 120_000
expect.set_options(timeout=TIMEOUT_MS)  # the UI polls its data; a loaded machine answers slowly


def _dismiss_welcome(page: Page) -> None:
    """A fresh profile shows "Join the Dagster community" over the page: skip it once it shows."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=15_000)
        skip.click()
    except Exception:  # it did not show this time
        pass


def _days_in_column(page: Page) -> list[str]:
    """The day keys of the partitions view's second column, top to bottom."""
    column = page.get_by_placeholder("Filter by trading_day").bounding_box()
    cells = page.get_by_text(DAY)
    rows = {}  # one per visible row under the column's filter box (each key is rendered twice)
    for i in range(cells.count()):
        cell = cells.nth(i)
        box = cell.bounding_box()
        if box and cell.is_visible() and box["y"] > column["y"] and column["x"] - 20 <= box["x"] <= column["x"] + column["width"]:
            rows.setdefault(round(box["y"] / 10), cell.inner_text())
    return [rows[y] for y in sorted(rows)]


def _visible(page: Page, text: str):
    """Elements showing exactly ``text`` (each key also has an invisible copy the UI measures to
    shorten it in the middle)."""
    return page.get_by_text(text, exact=True).filter(visible=True)


def _pick(page: Page, keys: list[str]) -> None:
    """Open the launch dialog's first dimension selector still empty and tick ``keys``."""
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Select a partition or create one").first.click()
    for key in keys:
        _visible(page, key).last.click(force=True)  # the dropdown row, re-rendered as statuses refresh
    page.keyboard.press("Escape")


def test_partitions_backfill_and_failed_check_in_chromium(deployment, tmp_path):
    d = deployment
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable("chromium"), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)

        # one stream's days, in date order
        page.goto(f"{d.url}/assets/book?view=partitions")
        _dismiss_welcome(page)
        _visible(page, "AAPL-L10").first.click()
        expect(page.get_by_placeholder("Filter by trading_day")).to_be_visible()
        days = _days_in_column(page)
        page.screenshot(path=tmp_path / "1-book-partitions.png")
        assert days == LANDED["AAPL"], days
        page.screenshot(path=tmp_path / "1-book-partitions.png")

        # a one-stream date-range backfill, by clicking
        before = {b["id"] for b in d.graphql(BACKFILLS)["partitionBackfillsOrError"]["results"]}
        page.get_by_role("button", name="Materialize…").click()
        page.get_by_role("button", name="Confirm").click()  # the multi-asset's three outputs
        _pick(page, ["AAPL-L10"])  # stream
        _pick(page, ["2012-06-25", "2012-06-26"])  # trading_day
        expect(page.get_by_role("dialog").get_by_text("2 partitions")).to_be_visible()
        page.screenshot(path=tmp_path / "2-launch-backfill.png")
        page.get_by_role("button", name="Launch backfill").click()

        def launched():
            new = [b for b in d.graphql(BACKFILLS)["partitionBackfillsOrError"]["results"] if b["id"] not in before]
            return new[0] if new and new[0]["status"] != "REQUESTED" and finished(new[0]["runs"]) else None

        backfill = wait_for("the backfill launched in the browser", launched, 600, every_s=2)
        assert sorted(backfill["partitionNames"]) == ["AAPL-L10|2012-06-25", "AAPL-L10|2012-06-26"]
        assert backfill["status"] == "COMPLETED_SUCCESS"

        # the failing check of the damaged day: its rule, value vs threshold, the first bad row
        page.goto(f"{d.url}/assets/book?view=checks&checkDetail=reference_match")
        _dismiss_welcome(page)
        body = page.locator("body")
        expect(body).to_contain_text("Cells that match the venue's own book / cells compared, at or above the threshold")
        page.get_by_role("tab", name="Partitions").last.click()
        _visible(page, "AAPL-L10").last.click()
        _visible(page, DAMAGED_DAY).last.click()
        expect(body).to_contain_text(f"AAPL-L10|{DAMAGED_DAY}")
        expect(body).to_contain_text(re.compile(r"Failed \(1\)"))
        expect(body).to_contain_text(re.compile(r"match_rate\s*0\.99\d+"))
        expect(body).to_contain_text(re.compile(r"threshold\s*1(?![\d.])"))
        expect(body).to_contain_text(re.compile(rf"first_mismatch_row\s*{d.victim}(?!\d)"))
        expect(body).to_contain_text(re.compile(rf"first_mismatch_message\s*row {d.victim + 1}: add bid"))
        page.screenshot(path=tmp_path / "3-failed-check.png", full_page=True)

        # a statistic that 999 events cannot judge: skipped on every landed stream-day but the damaged
        # one (blocked by reference_match: never executed), never failed
        page.goto(f"{d.url}/assets/fidelity_report?view=checks&checkDetail=hill_match")
        expect(body).to_contain_text("Hill tail index within tolerance of the reference book's")
        page.get_by_role("tab", name="Partitions").last.click()  # the check's own, beside its Overview
        expect(body).to_contain_text(re.compile(r"Skipped \(4\)"))
        expect(body).to_contain_text(re.compile(r"Failed \(0\)"))
        page.screenshot(path=tmp_path / "4-not-judged-check.png", full_page=True)
        browser.close()
