"""`harness cache info` and `harness cache clear`: the entries counted, sized, removed."""

from __future__ import annotations

import contextlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ..files import read_regular_file
from .entries import KEY_FILE
from .keys import ENTRIES_DIR, ENTRY_SUFFIX, cache_dir

__all__ = ["CacheInfo", "ClearResult", "cache_info", "clear_cache"]


# What the harness writes in the cache, by name: entries, the key, and their temporary files.
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}\.[a-z]+\.jsonl")
_TEMPORARY_NAME = re.compile(r"\.([0-9a-f]{64}\.[a-z]+\.jsonl|hmac\.key)\.[a-z0-9_]{8}\.tmp")
_ENTRY_MARKER = b'{"format":'


@dataclass(frozen=True)
class CacheInfo:
    """Where the cache lives, how many entries of each kind it holds, and their size in bytes."""

    directory: Path
    entries: dict[str, int]
    size_bytes: int

    @property
    def total_entries(self) -> int:
        """Entries of every kind."""
        return sum(self.entries.values())

    def lines(self) -> list[str]:
        """The `harness cache info` text."""
        kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(self.entries.items()))
        return [
            f"directory: {self.directory}",
            f"entries:   {self.total_entries}" + (f" ({kinds})" if kinds else ""),
            f"size:      {self.size_bytes:,} bytes ({self.size_bytes / 1e6:.1f} MB)",
        ]


@dataclass(frozen=True)
class ClearResult:
    """What `clear_cache` removed, and the files it left because the harness did not write them."""

    directory: Path
    removed: int
    left: tuple[str, ...]

    def lines(self) -> list[str]:
        """The `harness cache clear` text."""
        lines = [f"removed {self.removed} entries from {self.directory}"]
        if self.left:
            shown = ", ".join(self.left[:10]) + (" ..." if len(self.left) > 10 else "")
            lines.append(
                f"left {len(self.left)} files the harness did not write in "
                f"{self.directory / ENTRIES_DIR}: {shown}"
            )
        return lines


def _is_entry_file(path: Path) -> bool:
    """A regular file named like an entry whose first bytes are an entry header."""
    if not _ENTRY_NAME.fullmatch(path.name):
        return False
    try:
        return read_regular_file(path, len(_ENTRY_MARKER), follow_symlinks=False).startswith(
            _ENTRY_MARKER
        )
    except OSError:
        return False


def _is_own_temporary(path: Path) -> bool:
    """A temporary file the harness's writer left (named by it, never a symlink or FIFO)."""
    try:
        regular = stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
    return regular and bool(_TEMPORARY_NAME.fullmatch(path.name))


def _entry_files(directory: Path) -> list[Path]:
    folder = directory / ENTRIES_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if _is_entry_file(p))


def cache_info(directory: Path | None = None) -> CacheInfo:
    """Count and size the entries of the cache folder."""
    folder = directory if directory is not None else cache_dir()
    entries: dict[str, int] = {}
    size = 0
    for path in _entry_files(folder):
        kind = path.name.removesuffix(ENTRY_SUFFIX).rpartition(".")[2]
        entries[kind] = entries.get(kind, 0) + 1
        size += path.stat().st_size
    return CacheInfo(folder, entries, size)


def clear_cache(directory: Path | None = None) -> ClearResult:
    """Delete the entries, the key and the leftover temporary files the harness wrote in the cache
    folder, recognised by name and (entries) by their header; anything else is left and listed."""
    folder = directory if directory is not None else cache_dir()
    entries_dir = folder / ENTRIES_DIR
    present = sorted(entries_dir.iterdir()) if entries_dir.is_dir() else []
    files = [p for p in present if _is_entry_file(p)]
    ours = [*files, *(p for p in present if _is_own_temporary(p))]
    ours += [p for p in (folder.iterdir() if folder.is_dir() else ()) if _is_own_temporary(p)]
    key = folder / KEY_FILE
    with contextlib.suppress(OSError):
        if stat.S_ISREG(os.lstat(key).st_mode):
            ours.append(key)  # a new key is made with the next entry
    for path in ours:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        entries_dir.rmdir()  # only when nothing else is in it
    left = tuple(p.name for p in present if p not in ours)
    return ClearResult(folder, len(files), left)
