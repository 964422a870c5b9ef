"""Writing tables that are too large to hold: Parquet streamed block by block, and checkpoints.

:mod:`.parquet` writes one Parquet file a row group at a time into a temporary file and renames it
into place when complete; its state after any row group can be saved and a killed writer resumed
from there. :mod:`.thrift` is the Thrift compact protocol the Parquet footer is written in.
"""
