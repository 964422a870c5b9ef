"""The Python enums of obrecon_pipeline.codes and the Cython codes.pxd agree value by value."""

from __future__ import annotations

import pytest

from obrecon_pipeline import _codes, codes


@pytest.mark.parametrize("enum_name", sorted(_codes.PXD))
def test_pxd_enum_equals_python_enum(enum_name):
    enum = getattr(codes, enum_name)
    assert _codes.PXD[enum_name] == {member.name: int(member.value) for member in enum}


def test_sentinels_agree():
    assert _codes.SENTINELS == {"NULL_CELL": codes.NULL_CELL, "UNKNOWN_CELL": codes.UNKNOWN_CELL,
                                "NULL_ID": codes.NULL_ID}
    assert codes.NULL_CELL == -(2**63) and codes.UNKNOWN_CELL == codes.NULL_CELL + 1
