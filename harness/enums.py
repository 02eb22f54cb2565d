"""A closed set of names as an enum whose members are the strings written to files."""

from __future__ import annotations

from enum import Enum

__all__ = ["StrEnum"]


class StrEnum(str, Enum):
    """An enum of strings: a member equals, hashes, formats and serialises as its value.

    `enum.StrEnum` from Python 3.11 on; the harness supports 3.10. `str(member)` and f-strings give
    the value, so JSON, CSV and Markdown output read exactly as the plain strings did.
    """

    def __str__(self) -> str:
        return str.__str__(self)

    __format__ = str.__format__
