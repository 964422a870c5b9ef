"""The fidelity thresholds as a Dagster resource (``fidelity_thresholds``).

Its fields are generated from :class:`obrecon_pipeline.fidelity.thresholds.Thresholds` (name, type
and default; a tuple becomes a list in config), so a threshold is defined once, in the core, and a
deployment can override any of them in run or resource config.
"""

from __future__ import annotations

import dataclasses
import typing

import dagster as dg

from obrecon_pipeline.fidelity.thresholds import Thresholds


def _config_type(annotation):
    """The config type of a Thresholds field: ``tuple[T, ...]`` -> ``list[T]``."""
    if typing.get_origin(annotation) is tuple:
        return list[typing.get_args(annotation)[0]]
    return annotation


def _fields() -> dict:
    hints = typing.get_type_hints(Thresholds)
    defaults = Thresholds()
    out = {"__annotations__": {}}
    for f in dataclasses.fields(Thresholds):
        kind = _config_type(hints[f.name])
        out["__annotations__"][f.name] = kind
        value = getattr(defaults, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def _thresholds(self) -> Thresholds:
    """The core's :class:`Thresholds` with this resource's values."""
    values = {f.name: getattr(self, f.name) for f in dataclasses.fields(Thresholds)}
    return Thresholds(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


#: pass marks, samplings and minimum sample sizes of the fidelity statistics and checks
FidelityThresholds = type("FidelityThresholds", (dg.ConfigurableResource,), {
    "__module__": __name__,
    "__doc__": "Pass marks, samplings and minimum sample sizes of the fidelity statistics and checks "
               "(the fields of obrecon_pipeline.fidelity.thresholds.Thresholds).",
    "thresholds": _thresholds,
    **_fields(),
})
