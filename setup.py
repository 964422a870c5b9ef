"""Build the Cython extensions (everything else is declared in pyproject.toml)."""

from Cython.Build import cythonize
from setuptools import Extension, setup

COMPILE_ARGS = ["-O3"]

extensions = [
    Extension("obrecon_pipeline.replay._core", ["obrecon_pipeline/replay/_core.pyx"], extra_compile_args=COMPILE_ARGS),
    Extension("obrecon_pipeline.replay._sequencer", ["obrecon_pipeline/replay/_sequencer.pyx"], extra_compile_args=COMPILE_ARGS),
    Extension("obrecon_pipeline.replay._checksum", ["obrecon_pipeline/replay/_checksum.pyx"], extra_compile_args=COMPILE_ARGS),
    Extension("obrecon_pipeline.replay._convert", ["obrecon_pipeline/replay/_convert.pyx"], extra_compile_args=COMPILE_ARGS),
    # no floating-point contraction: the simulator's clock must round exactly as pymodel's does
    Extension("obrecon_pipeline.simulate._engine", ["obrecon_pipeline/simulate/_engine.pyx"],
              extra_compile_args=COMPILE_ARGS + ["-ffp-contract=off"]),
    Extension("obrecon_pipeline.simulate._csv", ["obrecon_pipeline/simulate/_csv.pyx"], extra_compile_args=COMPILE_ARGS),
]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}))
