"""Reading and writing one entry: a header (format, key, HMAC), then the payload."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..enums import StrEnum
from ..errors import OutputWriteError, printable
from ..files import NotARegularFileError, read_regular_file
from ..writers import atomic_write_text, create_private_file
from .codecs import UncacheableError
from .keys import _IDENTITY_FIELDS, CACHE_ENV, FORMAT_VERSION, CacheKey, cache_dir, entry_path

__all__ = [
    "KEY_FILE",
    "CacheWriteWarning",
    "Lookup",
    "LookupStatus",
    "cached",
    "read_entry",
    "write_entry",
]


KEY_FILE = "hmac.key"
MAX_ENTRY_BYTES = 256 * 2**20  # the largest model's inventory is a few MB
_KEY_BYTES = 32
T = TypeVar("T")


class CacheWriteWarning(UserWarning):
    """A result was computed but could not be stored; the next run computes it again."""


class LookupStatus(StrEnum):
    """What reading an entry found: a usable entry, none, or one that cannot be trusted."""

    HIT = "hit"
    MISSING = "missing"
    CORRUPT = "corrupt"  # unreadable, not an entry, or its HMAC fails
    STALE = "stale"  # another format, versions or code
    MISMATCH = "mismatch"  # the file of another config, revision or remote-code flag


@dataclass(frozen=True)
class Lookup:
    """The outcome of reading one entry: hit, missing, corrupt, stale or mismatch, and why."""

    status: LookupStatus
    payload: dict[str, Any] | None = None
    detail: str = ""

    @property
    def hit(self) -> bool:
        """True when the entry can be used."""
        return self.status is LookupStatus.HIT


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class CacheKeyError(OSError):
    """The cache's HMAC key cannot be used (not ours, readable by others, unwritable folder)."""


def _secret(directory: Path, *, create: bool) -> bytes | None:
    """The cache's HMAC key: read from `<directory>/hmac.key`, else (with `create`) made.

    None when there is none and `create` is False; CacheKeyError when it cannot be trusted.
    """
    path = directory / KEY_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        if not create:
            return None
    return _create_secret(path)


def _read_secret(path: Path) -> bytes:
    try:
        data = read_regular_file(path, 2 * _KEY_BYTES + 1, follow_symlinks=False)
    except NotARegularFileError as exc:
        raise CacheKeyError(f"the cache key {path} {exc.strerror}") from None
    info = os.lstat(path)
    if os.name == "posix" and (info.st_uid != os.geteuid() or info.st_mode & 0o077):
        raise CacheKeyError(
            f"the cache key {path} is owned by another user or readable by others "
            f"(mode {stat.filemode(info.st_mode)}); delete it and the harness makes a new one"
        )
    try:
        secret = bytes.fromhex(data.decode("ascii").strip())
    except ValueError:
        secret = b""
    if len(secret) != _KEY_BYTES:
        raise CacheKeyError(f"the cache key {path} is malformed; delete it")
    return secret


def _create_secret(path: Path) -> bytes:
    """Make a key; when a concurrent run made one first, use that one."""
    secret = secrets.token_bytes(_KEY_BYTES)
    if create_private_file(path, secret.hex().encode("ascii")):
        return secret
    return _read_secret(path)


def _mac(secret: bytes, key: CacheKey, body: bytes) -> str:
    message = _compact(key.as_dict()).encode("utf-8") + b"\n" + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def read_entry(key: CacheKey, directory: Path) -> Lookup:
    """Read the entry for `key` and say whether it can be trusted; never raises for bad files.

    An entry is two JSON lines: a header (format, key, the HMAC of key and payload), then the
    payload. The header is checked before the payload is authenticated, and the payload parsed
    only if its HMAC matches. Only a regular file is read (a FIFO, device or symlink is corrupt).
    """
    path = entry_path(key, directory)
    try:
        data = read_regular_file(path, MAX_ENTRY_BYTES, follow_symlinks=False)
    except FileNotFoundError:
        return Lookup(LookupStatus.MISSING, detail=f"no entry at {path}")
    except OSError as exc:
        return Lookup(LookupStatus.CORRUPT, detail=f"{path} cannot be read: {exc.strerror or exc}")
    try:
        secret = _secret(directory, create=False)
    except OSError as exc:
        return Lookup(LookupStatus.CORRUPT, detail=f"{path} is not trusted: {exc.strerror or exc}")
    if len(data) > MAX_ENTRY_BYTES:
        return Lookup(
            LookupStatus.CORRUPT, detail=f"{path} is larger than any entry the harness writes"
        )
    if secret is None:
        return Lookup(
            LookupStatus.CORRUPT, detail=f"{path}: the cache has no key, so no entry is trusted"
        )
    head, _, body = data.partition(b"\n")
    try:
        header = json.loads(head)
    except (ValueError, RecursionError) as exc:
        return Lookup(LookupStatus.CORRUPT, detail=f"{path}: the header is not JSON: {exc}")
    if not isinstance(header, dict) or not isinstance(header.get("key"), dict):
        return Lookup(LookupStatus.CORRUPT, detail=f"{path} is not a cache entry")
    if header.get("format") != FORMAT_VERSION:
        return Lookup(
            LookupStatus.STALE, detail=f"format {header.get('format')!r}, expected {FORMAT_VERSION}"
        )
    stored, expected = header["key"], key.as_dict()
    wrong = [name for name in _IDENTITY_FIELDS if stored.get(name) != expected[name]]
    if wrong:
        return Lookup(
            LookupStatus.MISMATCH, detail=f"{path} belongs to another key ({', '.join(wrong)})"
        )
    outdated = [name for name in expected if stored.get(name) != expected[name]]
    if outdated or set(stored) != set(expected):
        return Lookup(
            LookupStatus.STALE, detail=f"{path} was made with other {', '.join(outdated) or 'keys'}"
        )
    body = body.removesuffix(b"\n")
    stored_mac = header.get("payload_hmac")
    if not isinstance(stored_mac, str) or not hmac.compare_digest(
        stored_mac, _mac(secret, key, body)
    ):
        return Lookup(
            LookupStatus.CORRUPT, detail=f"{path}: the payload does not match its HMAC (edited?)"
        )
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return Lookup(LookupStatus.CORRUPT, detail=f"{path}: the payload is not JSON: {exc}")
    if not isinstance(payload, dict):
        return Lookup(LookupStatus.CORRUPT, detail=f"{path}: the payload is not an object")
    return Lookup(LookupStatus.HIT, payload=payload)


def write_entry(key: CacheKey, payload: dict[str, Any], directory: Path) -> Path:
    """Write one entry atomically: a header line (format, key, HMAC), then the payload line."""
    body = _compact(payload)
    try:
        secret = _secret(directory, create=True)
    except OSError as exc:
        raise OutputWriteError(f"cannot use the cache key: {exc.strerror or exc}") from None
    assert secret is not None
    header = {
        "format": FORMAT_VERSION,
        "key": key.as_dict(),
        "payload_hmac": _mac(secret, key, body.encode("utf-8")),
    }
    return atomic_write_text(entry_path(key, directory), f"{_compact(header)}\n{body}\n")


def cached(
    key: CacheKey,
    compute: Callable[[], T],
    *,
    encode: Callable[[T], dict[str, Any]],
    decode: Callable[[dict[str, Any]], T],
    directory: Path | None = None,
    use_cache: bool = True,
) -> T:
    """The cached result for `key`, else `compute()` stored under it; errors are never cached."""
    if not use_cache:
        return compute()
    folder = directory if directory is not None else cache_dir()
    lookup = read_entry(key, folder)
    if lookup.hit and lookup.payload is not None:
        with contextlib.suppress(KeyError, TypeError, ValueError, RecursionError):
            return decode(lookup.payload)
    value = compute()
    # A cache that cannot be written only costs speed, never a result: warn and go on.
    try:
        write_entry(key, encode(value), folder)
    except OSError as exc:
        reason = str(exc).partition("; choose another output path")[0]
        advice = (
            f"{reason}; set {CACHE_ENV} to a writable folder, or turn the cache off "
            "(--no-cache on the command line, --harness-no-cache under pytest)"
        )
    except UncacheableError as exc:
        advice = f"{exc}; it is computed again on every run (a harness bug: please report it)"
    else:
        return value
    warnings.warn(
        printable(
            f"{key.kind} cache entry not written for config {key.config_sha256[:12]}… in "
            f"{folder}: {advice}"
        ),
        CacheWriteWarning,
        stacklevel=2,
    )
    return value
