"""Reading input files safely: regular files only, never blocking, never more than a stated size.

Every file the harness reads that a user or another program can put in its way (config.json,
snapshot.json, a Mantile config given to `check`, cache entries, layer sources, gap reports, case
files) goes through `read_regular_file`. A FIFO would block a plain `open()` forever, a device such
as /dev/zero never ends, and a folder or socket cannot be read at all: each is refused by its kind,
before anything is read, with a message that says what the path is.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["NotARegularFileError", "file_kind", "read_regular_file"]

_CHUNK = 1 << 20
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISREG, "a regular file"),
)


class NotARegularFileError(OSError):
    """The path exists but is a folder, FIFO, device, socket or (where refused) a symlink.

    `strerror` reads "is a FIFO (named pipe), not a regular file", so callers that quote
    `exc.strerror` say what the path is.
    """

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(errno.EINVAL, f"is {kind}, not a regular file", os.fspath(path))
        self.kind = kind


def file_kind(mode: int) -> str:
    """What a stat mode describes, for a message: "a folder", "a FIFO (named pipe)", ..."""
    return next((kind for test, kind in _KINDS if test(mode)), "a special file")


def read_regular_file(
    path: str | os.PathLike[str], limit: int, *, follow_symlinks: bool = True
) -> bytes:
    """At most `limit` + 1 bytes of a regular file (one byte more tells the caller it is larger).

    Anything else raises NotARegularFileError before a byte is read, and the file is opened
    non-blocking, so a FIFO swapped in after the check cannot block either. With
    `follow_symlinks=False` a symlink is refused too. Other failures raise OSError as usual.
    """
    target = Path(path)
    mode = (os.stat if follow_symlinks else os.lstat)(target).st_mode
    if not stat.S_ISREG(mode):
        raise NotARegularFileError(target, file_kind(mode))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(target, flags)
    try:
        opened = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(opened):  # replaced between the stat and the open
            raise NotARegularFileError(target, file_kind(opened))
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)
