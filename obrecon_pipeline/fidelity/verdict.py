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
    #: the first few divergent rows / bad orders (empty when there are none), for a table
    rows: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS


def judge(value: float | None, ok: bool, n: int, min_n: int) -> Verdict:
    """TOO_FEW when n < min_n or there is no value, else PASS/FAIL from ``ok``."""
    if n < min_n or value is None:
        return Verdict.TOO_FEW
    return Verdict.PASS if ok else Verdict.FAIL
