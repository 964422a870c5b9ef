"""A checkpoint file: a JSON header and named binary blobs, written atomically.

Layout: ``b"OBRECKP1"``, the header's length (8 bytes little-endian), the header (UTF-8 JSON with
``"blobs": {name: [offset, length]}``, offsets counted from the end of the header), the blobs. It is
written to a temporary file and renamed over the previous checkpoint, so a reader sees the old one
or the new one, never half of either; a file that does not read back as this layout is no
checkpoint (:func:`load` returns None and the run starts over).
"""

from __future__ import annotations

import json
from pathlib import Path

from obrecon_pipeline.atomic import atomic_path

MAGIC = b"OBRECKP1"


def save(path: str | Path, header: dict, blobs: dict[str, bytes]) -> None:
    offsets, at = {}, 0
    for name, blob in blobs.items():
        offsets[name] = [at, len(blob)]
        at += len(blob)
    head = json.dumps({**header, "blobs": offsets}).encode()
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + len(head).to_bytes(8, "little") + head)
            for blob in blobs.values():
                fh.write(blob)


def load(path: str | Path) -> tuple[dict, dict[str, bytes]] | None:
    """``(header, blobs)`` of the checkpoint at ``path``; None if there is none or it is unreadable."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    if data[:8] != MAGIC or len(data) < 16:
        return None
    n = int.from_bytes(data[8:16], "little")
    try:
        header = json.loads(data[16:16 + n])
        spans = header.pop("blobs")
        body = data[16 + n:]
        blobs = {name: body[o:o + k] for name, (o, k) in spans.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if any(len(blobs[name]) != k for name, (_, k) in spans.items()):
        return None  # cut short
    return header, blobs
