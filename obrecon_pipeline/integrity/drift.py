"""The verdict on a stream's mid-stream snapshots: did the rebuilt book agree with each one?

The replayer compares the book just before every judged snapshot with the snapshot, side by side
over the levels the snapshot gives (``replay/_drift.pxd``), and reports ``snapshot_drift`` in
report.json. Here those counts become a verdict:

    agreement = snapshots_agree / snapshots_compared,  passed when agreement >= the threshold.

A stream with no judged snapshot (none mid-stream; or each one ``not_comparable``: both books
carry update ids that differ; or ``back_to_back``: a feed of snapshots only) is **not judged**:
there is nothing to compare, which is neither a pass nor a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

#: report.json ``snapshot_drift`` counters, in the order the README and the tests show them
COUNTS = ("snapshots_compared", "snapshots_agree", "snapshots_disagree", "snapshots_not_comparable",
          "snapshots_back_to_back")


@dataclass(frozen=True)
class SnapshotDrift:
    compared: int
    agree: int
    disagree: int
    not_comparable: int
    back_to_back: int
    #: the first disagreement: output ``row`` (the snapshot's own row; the row before it is the
    #: rebuilt book it replaced), ``event``, ``ts_event``, ``update_id``, ``level`` (1-based),
    #: ``side``, ``ours_price``/``ours_size`` and ``theirs_price``/``theirs_size``
    first: dict | None

    @classmethod
    def from_report(cls, drift: dict | None) -> SnapshotDrift:
        """From report.json's ``snapshot_drift`` (missing: a stream without snapshots)."""
        drift = drift or {}
        return cls(*(int(drift.get(k, 0)) for k in COUNTS), drift.get("first_snapshot_disagreement") or None)

    @property
    def judged(self) -> bool:
        return self.compared > 0

    @property
    def agreement(self) -> float | None:
        """snapshots_agree / snapshots_compared; None when no snapshot was judged."""
        return self.agree / self.compared if self.compared else None

    def passed(self, min_agreement: float) -> bool | None:
        """agreement >= ``min_agreement``; None when not judged."""
        return None if self.agreement is None else self.agreement >= min_agreement

    def reason(self) -> str:
        """Why the stream is not judged (empty when it is)."""
        if self.judged:
            return ""
        if self.not_comparable or self.back_to_back:
            return (f"no snapshot comparable with the rebuilt book ({self.not_comparable} at another update id, "
                    f"{self.back_to_back} right after a snapshot)")
        return "no mid-stream snapshot"
