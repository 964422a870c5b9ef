"""The import structure: layers only point down, and the core never imports Dagster.

Every module of ``obrecon_pipeline`` is given a layer by its path (the longest prefix in
:data:`LAYERS` wins); an import may only reach a module of a lower layer, or of the same part
(``feeds`` may import ``feeds``, never ``replay``, and the reverse). The Dagster layer (``assets``,
``resources``) sits on top: ``resources`` never imports ``assets``, and nothing in the core
imports either of them, Dagster or dagster-polars. Imports are read with :mod:`ast` (``.py``) and
from ``import``/``cimport`` lines (``.pyx``/``.pxd``), including imports inside functions.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: module prefix -> layer (0 = bottom); parts on one layer may not import each other
LAYERS = {
    "obrecon_pipeline": 0,  # the package docstring and __version__
    "obrecon_pipeline.codes": 0,
    "obrecon_pipeline._codes": 0,
    "obrecon_pipeline.errors": 0,
    "obrecon_pipeline.events": 0,
    "obrecon_pipeline.book_schema": 0,
    "obrecon_pipeline.streams": 0,
    "obrecon_pipeline.atomic": 0,
    "obrecon_pipeline.buffers": 0,
    "obrecon_pipeline.storage": 0,
    "obrecon_pipeline.memory": 0,  # C allocation that raises MemoryError (memory.pxd)
    "obrecon_pipeline.feeds": 1,
    "obrecon_pipeline.replay": 1,
    "obrecon_pipeline.simulate": 1,
    "obrecon_pipeline.catalog": 2,  # the catalog of the landing zone (on the feeds)
    "obrecon_pipeline.integrity": 2,
    "obrecon_pipeline.metrics": 2,
    "obrecon_pipeline.fidelity": 3,
    "obrecon_pipeline.report": 4,
    "obrecon_pipeline.outputs": 4,
    "obrecon_pipeline.warehouse": 4,
    "obrecon_pipeline.pipeline": 5,
    "obrecon_pipeline.cli": 6,
}
DAGSTER = ("dagster", "dagster_polars", "dagster_webserver", "dagster_postgres", "dagster_celery", "assets", "resources")
_PYX_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+c?import|c?import\s+([\w.]+))", re.M)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    text = path.read_text()
    if path.suffix != ".py":
        return {a or b for a, b in _PYX_IMPORT.findall(text)}
    found = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _part(module: str) -> str | None:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len, default=None)
    return best


def _sources(package: str) -> list[Path]:
    return sorted(p for ext in ("*.py", "*.pyx", "*.pxd") for p in (REPO / package).rglob(ext))


def test_every_core_module_has_a_layer():
    unplaced = [_module_name(p) for p in _sources("obrecon_pipeline") if _part(_module_name(p)) in (None, "obrecon_pipeline")
                and _module_name(p) != "obrecon_pipeline"]
    assert unplaced == []


@pytest.mark.parametrize("path", _sources("obrecon_pipeline"), ids=lambda p: str(p.relative_to(REPO)))
def test_core_imports_point_down(path):
    source = _module_name(path)
    here = _part(source)
    wrong = []
    for target in _imports(path):
        top = target.split(".")[0]
        if top in DAGSTER:
            wrong.append(f"{target} (the core imports no Dagster layer)")
            continue
        there = _part(target)
        if there is None or there == "obrecon_pipeline" or there == here:
            continue
        if LAYERS[there] > LAYERS[here] or (LAYERS[there] == LAYERS[here] and LAYERS[here] > 0):
            wrong.append(f"{target} (layer {LAYERS[there]} {there}) from layer {LAYERS[here]} {here}")
    assert wrong == []


@pytest.mark.parametrize("path", _sources("resources"), ids=lambda p: str(p.relative_to(REPO)))
def test_resources_do_not_import_assets(path):
    assert not [t for t in _imports(path) if t.split(".")[0] == "assets"]
