"""Build the Cython extensions (everything else is declared in pyproject.toml)."""

from Cython.Build import cythonize
from setuptools import Extension, setup

COMPILE_ARGS = ["-O3"]

MODULES = {
    "obrecon_pipeline._codes": "obrecon_pipeline/_codes.pyx",
    "obrecon_pipeline.replay._replayer": "obrecon_pipeline/replay/_replayer.pyx",
    "obrecon_pipeline.replay._book": "obrecon_pipeline/replay/_book.pyx",
    "obrecon_pipeline.replay._checksum": "obrecon_pipeline/replay/_checksum.pyx",
    "obrecon_pipeline.replay._convert": "obrecon_pipeline/replay/_convert.pyx",
    "obrecon_pipeline.feeds.l2._sequencer": "obrecon_pipeline/feeds/l2/_sequencer.pyx",
    "obrecon_pipeline.simulate._engine": "obrecon_pipeline/simulate/_engine.pyx",
    "obrecon_pipeline.simulate._csv": "obrecon_pipeline/simulate/_csv.pyx",
    "obrecon_pipeline.feeds._lobster_csv": "obrecon_pipeline/feeds/_lobster_csv.pyx",
    "obrecon_pipeline.feeds._dbn": "obrecon_pipeline/feeds/_dbn.pyx",
    "obrecon_pipeline.feeds.cryptofeed._capture_scan": "obrecon_pipeline/feeds/cryptofeed/_capture_scan.pyx",
    "obrecon_pipeline.feeds.cryptofeed._level_columns": "obrecon_pipeline/feeds/cryptofeed/_level_columns.pyx",
    "obrecon_pipeline.feeds.cryptofeed._binance_scan": "obrecon_pipeline/feeds/cryptofeed/_binance_scan.pyx",
    "obrecon_pipeline.feeds.cryptofeed._book_scan": "obrecon_pipeline/feeds/cryptofeed/_book_scan.pyx",
}
#: extra flags per module: the simulator's clock must round exactly as its pure-Python reference
#: does, so no floating-point contraction (fused multiply-add) there; the replay loop's pieces
#: (``cdef inline``) are inlined into it whatever their size: GCC's default limits left the event
#: step, the row emission and the ladder update as calls (9 % more instructions per event)
INLINE_ALL = ["--param", "max-inline-insns-single=2000", "--param", "max-inline-insns-auto=2000",
              "--param", "large-function-growth=2000", "--param", "inline-unit-growth=2000"]
EXTRA_ARGS = {"obrecon_pipeline.simulate._engine": ["-ffp-contract=off"],
              "obrecon_pipeline.replay._replayer": INLINE_ALL}

extensions = [Extension(name, [source], extra_compile_args=COMPILE_ARGS + EXTRA_ARGS.get(name, []))
              for name, source in MODULES.items()]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}))
