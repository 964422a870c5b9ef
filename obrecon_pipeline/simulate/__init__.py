"""``obrecon simulate``: realistic LOBSTER days of any size that carry their own ground truth.

A price-time-priority market driven by the Cont-Stoikov-Talreja order flow
(:mod:`~obrecon_pipeline.simulate.params`) writes the messages that touch its best L levels and its
own book after each one, in LOBSTER's format and file names, into the landing zone. The hot loop
is Cython (``_engine.pyx``: flow, matching, window; ``_csv.pyx``: text); ``pymodel`` is the
independent pure-Python reference that writes the same bytes.

Producers of raw data import nothing of the project but its errors and event codes.
"""

from obrecon_pipeline.simulate.day import DayResult, simulate_day, simulate_days
from obrecon_pipeline.simulate.params import ModelParams

__all__ = ["DayResult", "ModelParams", "simulate_day", "simulate_days"]
