"""Writers at the edge: atomic, deterministic files (JSON, CSV, Markdown); no pipeline records."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import OutputWriteError
from .files import file_kind

__all__ = [
    "WriteInterruptedError",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_target",
    "create_private_file",
    "dump_json",
    "holds",
    "signals_as_exceptions",
    "write_files",
]


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` as UTF-8 to `path` atomically (see `atomic_write_bytes`)."""
    return write_files({Path(path): text})[0]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` via a temp file and a rename, so readers never see half a file."""
    return write_files({Path(path): data})[0]


def write_files(files: Mapping[Path, str | bytes]) -> list[Path]:
    """Write several files as one output: all of them new, or (on any failure) all of them old.

    Every target is checked first (an existing folder, FIFO, device, socket or symlink is never
    replaced: OutputWriteError), then every file goes to a temporary file beside its target, then
    the temporaries are renamed into place. A failure while writing (disk full, SIGTERM, SIGHUP,
    Ctrl-C) removes the temporaries; a failure between two renames puts the old files back. Only
    a kill that cannot be caught (SIGKILL, power loss) between two renames can leave a mix.
    Text is written as UTF-8.
    """
    payloads = {Path(path): data for path, data in files.items()}
    targets = list(payloads)
    for target in targets:
        check_output_target(target)
    encoded = {target: _encoded(target, data) for target, data in payloads.items()}
    try:
        with signals_as_exceptions():
            _replace_all(encoded)
    except OSError as exc:
        raise _write_error(exc, targets) from None
    except ValueError:  # the OS cannot take the name at all (a NUL, a lone surrogate)
        shown = ", ".join(ascii(str(target)) for target in targets)
        raise OutputWriteError(
            f"cannot write {shown}: the name holds a character no file name can (a NUL or a lone "
            "surrogate); choose another name"
        ) from None
    return targets


def holds(path: Path, data: bytes) -> bool:
    """True when `path` is a regular file with exactly these bytes (it need not be written)."""
    from .files import read_regular_file

    try:
        return read_regular_file(path, len(data), follow_symlinks=False) == data
    except OSError:
        return False


def create_private_file(path: str | os.PathLike[str], data: bytes) -> bool:
    """Create `path` holding `data`, readable by its owner only (0600), unless something is
    already there: then write nothing and return False. Readers never see it half written (it is
    written beside its name, then hard-linked to it, which fails if the name is taken)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:  # mkstemp creates it 0600
            stream.write(data)
        try:
            os.link(name, target)
        except FileExistsError:
            return False
    finally:
        Path(name).unlink(missing_ok=True)
    return True


def check_output_target(path: str | os.PathLike[str]) -> None:
    """Raise OutputWriteError when `path` exists and is not a regular file (nor a symlink).

    The harness replaces a file by renaming a new one over it, which would put a regular file in
    the place of a FIFO, a device node or the symlink, so those are refused before anything is
    written, with the reason.
    """
    target = Path(path)
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        return  # an unusable name fails when it is written, with the OS's reason
    if stat.S_ISREG(mode):
        return
    kind = file_kind(mode)
    raise OutputWriteError(
        f"cannot write {target}: it is {kind}, not a regular file, and the harness only replaces "
        f"regular files (it never writes through or over {kind}); choose another output path"
    )


def _encoded(target: Path, data: str | bytes) -> bytes:
    if isinstance(data, bytes):
        return data
    try:
        return data.encode("utf-8")
    except UnicodeEncodeError as exc:
        shown = ascii(exc.object[exc.start : exc.end])[1:-1]
        raise OutputWriteError(
            f"cannot write {target}: the text holds {shown}, a lone UTF-16 surrogate that UTF-8 "
            "cannot encode (it came from an input that is not text); fix that input"
        ) from None


def _write_error(exc: OSError, targets: Sequence[Path]) -> OutputWriteError:
    if isinstance(exc, OutputWriteError):
        return exc
    first = targets[0]
    where = Path(exc.filename) if isinstance(exc.filename, str) else first
    blocker = "" if where.parent == first.parent else f" ({where})"
    named = where if where in targets else first
    return OutputWriteError(
        f"cannot write {named}: {exc.strerror or type(exc).__name__}{blocker}; "
        "choose another output path, or remove what is in the way"
    )


def _replace_all(payloads: Mapping[Path, bytes]) -> None:
    """Temporaries for every payload, then renames; on failure nothing of this call remains."""
    temporaries: dict[Path, Path] = {}
    try:
        for target, data in payloads.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Named (and remembered for the cleanup) before it is created: a signal arriving
            # at any point leaves no temporary the cleanup does not know of.
            temporaries[target] = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
            _write_temporary(target, temporaries[target], data)
        _rename_all(temporaries)
    except BaseException:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)
        raise


def _write_temporary(target: Path, temporary: Path, data: bytes) -> None:
    """Create `temporary` (it must not exist) beside `target` and write `data` into it."""
    handle = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600
    )
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    # Created 0600 like mkstemp's files; give it the usual mode of a file meant to be shared.
    os.chmod(temporary, 0o644)


def _rename_all(temporaries: Mapping[Path, Path]) -> None:
    """Rename each temporary over its target; if one rename fails, restore the targets done."""
    if len(temporaries) == 1:
        for target, temporary in temporaries.items():
            os.replace(temporary, target)
        return
    backups = {target: _backup(target) for target in temporaries}
    renamed: list[Path] = []
    try:
        for target, temporary in temporaries.items():
            os.replace(temporary, target)
            renamed.append(target)
    except BaseException:
        for target in reversed(renamed):
            backup = backups.pop(target)
            if backup is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(backup, target)
        raise
    finally:
        for backup in backups.values():
            if backup is not None:
                backup.unlink(missing_ok=True)


def _backup(target: Path) -> Path | None:
    """A second name for the current target (a hard link, else a copy), or None if none exists."""
    if not target.exists():
        return None
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    backup = Path(name)
    try:
        backup.unlink()
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)  # a file system without hard links
    return backup


class WriteInterruptedError(BaseException):
    """SIGTERM or SIGHUP arrived while the harness was writing; raised to clean up, then the
    signal is delivered again the way it would have been."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


_CAUGHT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_INSIDE: list[bool] = [False]


@contextlib.contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise WriteInterruptedError, so the writer's cleanup runs;
    on the way out the signal is delivered again to the handler that was there before (by
    default: the process ends as the signal says). Main thread only; nested uses are one."""
    if _INSIDE[0] or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in _CAUGHT_SIGNALS:
        handler = signal.getsignal(signum)
        if handler in (signal.SIG_IGN, None):
            continue  # an ignored signal (nohup) stays ignored
        previous[signum] = handler
        signal.signal(signum, _raise_interrupted)
    _INSIDE[0] = True
    try:
        yield
    except WriteInterruptedError as exc:
        _restore(previous)
        signal.raise_signal(exc.signum)
        raise OutputWriteError(
            f"writing was interrupted by signal {exc.signum}; nothing was written"
        ) from None
    finally:
        _INSIDE[0] = False
        _restore(previous)


def _raise_interrupted(signum: int, frame: object) -> None:
    raise WriteInterruptedError(signum)


def _restore(previous: Mapping[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


_SCALAR_LIST = re.compile(r"\[\s*\n(?:\s*(?:-?\d+|true|false|null|\"[^\"\n]*\"),?\s*\n)+\s*\]")


def _one_line(match: re.Match[str]) -> str:
    items = [item.strip().rstrip(",") for item in match.group(0)[1:-1].split("\n") if item.strip()]
    return "[" + ", ".join(items) + "]"


def dump_json(data: Any) -> str:
    """Deterministic JSON: insertion order, indent 2, scalar lists on one line, final newline."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    return _SCALAR_LIST.sub(_one_line, text) + "\n"
