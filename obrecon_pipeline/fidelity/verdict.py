"""The result of one fidelity statistic: value, threshold, n, verdict and where it went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    TOO_FEW = "too_few"  #: n below the minimum: neither pass nor fail
    NO_REFERENCE = "no_reference"  #: the partition has no reference book to compare with


@dataclass(frozen=True)
class StatResult:
    name: str
    verdict: Verdict
    value: float | None
    threshold: str  #: human-readable rule, e.g. ">= 0.99"
    n: int
    min_n: int
    #: supporting figures (estimates, p-values) and, on failure, where it went wrong (first
    #: failing row / time); scalars only, for check metadata
    details: dict[str, float | int | str | bool | None] = field(default_factory=dict)
    #: a small markdown table illustrating the failure (empty when it passed)
    table: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS


def judge(value: float | None, ok: bool, n: int, min_n: int) -> Verdict:
    """TOO_FEW when n < min_n or there is no value, else PASS/FAIL from ``ok``."""
    if n < min_n or value is None:
        return Verdict.TOO_FEW
    return Verdict.PASS if ok else Verdict.FAIL


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """A small GitHub-style markdown table of ``rows`` (floats with 6 significant digits)."""

    def fmt(v):
        return f"{v:.6g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
