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
}

extensions = [Extension(name, [source], extra_compile_args=COMPILE_ARGS) for name, source in MODULES.items()]

setup(ext_modules=cythonize(extensions, compiler_directives={"language_level": "3"}))
