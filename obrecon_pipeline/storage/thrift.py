"""The Thrift compact protocol, generically: decode a struct to fields, encode it back unchanged.

A Parquet file's footer (``FileMetaData``) is a Thrift struct in the compact protocol (Apache
Thrift, "Thrift Compact protocol encoding", ``doc/specs/thrift-compact-protocol.md``; Apache
Parquet, ``parquet.thrift``). :mod:`obrecon_pipeline.storage.parquet` assembles a footer from the
footers of separately encoded row groups, which needs only to read fields, shift a few integer
offsets and write the struct again, so this module keeps every field it does not understand as it
was, in order:

* a struct is a list of :class:`Field` (``id``, compact ``type``, ``value``);
* integers (``I8``, ``I16``, ``I32``, ``I64``) are Python ints (``I16``-``I64`` are zigzag varints on
  the wire), ``BOOL`` values are Python bools (in a field header the value is the type nibble
  ``1``/``2``; inside a list one byte), ``DOUBLE`` is a float (8 bytes little-endian), ``BINARY`` is
  bytes (varint length + bytes);
* a list or set is a :class:`Seq` (element type and items), a map is a :class:`Map`;
* on encoding, a struct given as ``bytes`` is one already encoded, written as it is (a writer that
  keeps many structs, such as a file's row groups, encodes each once).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

STOP, TRUE, FALSE, I8, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)
BOOL = TRUE  #: the element type of a list of booleans


@dataclass
class Field:
    id: int
    type: int
    value: object


@dataclass
class Seq:
    """A list (or set) of ``type`` elements."""

    type: int
    items: list
    is_set: bool = False


@dataclass
class Map:
    key_type: int
    value_type: int
    items: list  #: (key, value) pairs


class ThriftError(ValueError):
    """Bytes that are not a compact-protocol struct."""


class _Reader:
    def __init__(self, data: bytes):
        self.data = memoryview(data)
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ThriftError("unexpected end of data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 70:
                raise ThriftError("varint too long")

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ThriftError("unexpected end of data")
        out = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return out

    def value(self, ctype: int):
        if ctype in (TRUE, FALSE):  # an element of a container: one byte
            return self.byte() == TRUE
        if ctype == I8:
            b = self.byte()
            return b - 256 if b > 127 else b
        if ctype in (I16, I32, I64):
            return self.zigzag()
        if ctype == DOUBLE:
            return struct.unpack("<d", self.take(8))[0]
        if ctype == BINARY:
            return self.take(self.varint())
        if ctype in (LIST, SET):
            head = self.byte()
            size, etype = head >> 4, head & 0x0F
            if size == 15:
                size = self.varint()
            return Seq(etype, [self.value(etype) for _ in range(size)], ctype == SET)
        if ctype == MAP:
            size = self.varint()
            if size == 0:
                return Map(0, 0, [])
            kv = self.byte()
            kt, vt = kv >> 4, kv & 0x0F
            return Map(kt, vt, [(self.value(kt), self.value(vt)) for _ in range(size)])
        if ctype == STRUCT:
            return self.struct()
        raise ThriftError(f"unknown compact type {ctype}")

    def struct(self) -> list[Field]:
        fields: list[Field] = []
        last = 0
        while True:
            head = self.byte()
            if head == STOP:
                return fields
            ctype, delta = head & 0x0F, head >> 4
            fid = last + delta if delta else self.zigzag()
            if ctype in (TRUE, FALSE):
                fields.append(Field(fid, ctype, ctype == TRUE))
            else:
                fields.append(Field(fid, ctype, self.value(ctype)))
            last = fid


def decode(data: bytes) -> list[Field]:
    """The struct encoded in ``data`` (which must hold exactly one struct)."""
    reader = _Reader(data)
    fields = reader.struct()
    if reader.pos != len(data):
        raise ThriftError(f"{len(data) - reader.pos} bytes after the struct")
    return fields


def _varint(n: int, out: bytearray) -> None:
    while True:
        if n < 0x80:
            out.append(n)
            return
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def _zigzag(n: int, out: bytearray) -> None:
    _varint((n << 1) ^ (n >> 63), out)


def _value(ctype: int, v, out: bytearray) -> None:
    if ctype in (TRUE, FALSE):
        out.append(TRUE if v else FALSE)
    elif ctype == I8:
        out.append(v & 0xFF)
    elif ctype in (I16, I32, I64):
        _zigzag(v, out)
    elif ctype == DOUBLE:
        out += struct.pack("<d", v)
    elif ctype == BINARY:
        _varint(len(v), out)
        out += v
    elif ctype in (LIST, SET):
        size = len(v.items)
        out.append((min(size, 15) << 4) | v.type)
        if size >= 15:
            _varint(size, out)
        for item in v.items:
            _value(v.type, item, out)
    elif ctype == MAP:
        _varint(len(v.items), out)
        if v.items:
            out.append((v.key_type << 4) | v.value_type)
            for key, value in v.items:
                _value(v.key_type, key, out)
                _value(v.value_type, value, out)
    elif ctype == STRUCT:
        if isinstance(v, bytes):
            out += v
        else:
            _struct(v, out)
    else:
        raise ThriftError(f"unknown compact type {ctype}")


def _struct(fields: list[Field], out: bytearray) -> None:
    last = 0
    for f in fields:
        ctype = (TRUE if f.value else FALSE) if f.type in (TRUE, FALSE) else f.type
        delta = f.id - last
        if 0 < delta <= 15:
            out.append((delta << 4) | ctype)
        else:
            out.append(ctype)
            _zigzag(f.id, out)
        if ctype not in (TRUE, FALSE):
            _value(ctype, f.value, out)
        last = f.id
    out.append(STOP)


def encode(fields: list[Field]) -> bytes:
    out = bytearray()
    _struct(fields, out)
    return bytes(out)


def get(fields: list[Field], fid: int) -> Field | None:
    """The field with id ``fid``, or None."""
    return next((f for f in fields if f.id == fid), None)
