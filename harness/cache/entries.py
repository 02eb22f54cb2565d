"""Inspection cache: dry-run results on disk, so a warm run neither builds models nor imports torch.

An entry is keyed by the config's sha256, the effective revision and trust_remote_code (its file
name), and is valid only for the transformers, torch and harness versions and the source of the
code that computed it (recorded inside it). Entries are JSON with a format version and an HMAC of
their key and payload, written atomically. A missing, corrupt, truncated, stale, mismatched or
hand-edited entry is never trusted: the result is computed again and the entry rewritten. Versions
are read with importlib.metadata, so checking an entry imports neither torch nor transformers.

The HMAC key is 32 random bytes in `<cache>/hmac.key`, created by the harness with mode 0600. An
entry edited by hand, even with its checksum recomputed, fails the HMAC; only someone who can read
the key (the owner of the cache, who could as well edit the harness) can forge one. A key file that
is not a regular file, is readable by others or is owned by another user is not used: the cache is
then neither read nor written, and the harness says why.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.util
import json
import math
import os
import re
import secrets
import stat
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import OutputWriteError, printable
from .files import NotARegularFileError, read_regular_file
from .pipeline.inventory import Inspection, TensorKind, TensorRecord
from .pipeline.resolve import ResolvedConfig
from .writers import atomic_write_text, create_private_file

if TYPE_CHECKING:
    from .pipeline.flops import FlopsReport

__all__ = [
    "CACHE_ENV",
    "CODE_MODULES",
    "FLOPS",
    "FORMAT_VERSION",
    "INSPECTION",
    "CacheInfo",
    "CacheKey",
    "CacheWriteWarning",
    "ClearResult",
    "Lookup",
    "UncacheableError",
    "cache_dir",
    "cache_info",
    "cache_key",
    "cached",
    "clear_cache",
    "code_digest",
    "decode_value",
    "encode_value",
    "entry_path",
    "flops_payload",
    "inspection_from_payload",
    "inspection_payload",
    "package_versions",
    "read_entry",
    "write_entry",
]

CACHE_ENV = "HARNESS_CACHE_DIR"
FORMAT_VERSION = 3
APP_NAME = "harness"
ENTRIES_DIR = "entries"
ENTRY_SUFFIX = ".jsonl"
KEY_FILE = "hmac.key"
MAX_ENTRY_BYTES = 256 * 2**20  # the largest model's inventory is a few MB
_KEY_BYTES = 32
# What the harness writes in the cache, by name: entries, the key, and their temporary files.
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}\.[a-z]+\.jsonl")
_TEMPORARY_NAME = re.compile(r"\.([0-9a-f]{64}\.[a-z]+\.jsonl|hmac\.key)\.[a-z0-9_]{8}\.tmp")
_ENTRY_MARKER = b'{"format":'
INSPECTION = "inspection"
FLOPS = "flops"
# The harness modules whose source decides each kind of cached result: the cache's own codecs,
# the API that composes the computation, and the steps that compute it.
CODE_MODULES: dict[str, tuple[str, ...]] = {
    INSPECTION: ("harness.cache", "harness.api", "harness.pipeline.inventory", "harness.limits"),
    FLOPS: (
        "harness.cache",
        "harness.api",
        "harness.pipeline.flops",
        "harness.pipeline.flops.report",
        "harness.pipeline.flops.targets",
        "harness.pipeline.flops.forward",
        "harness.pipeline.flops.compare",
        "harness.pipeline.inventory",
        "harness.catalog.catalog",
        "harness.catalog.base",
        "harness.catalog.attention",
        "harness.catalog.mlp",
        "harness.catalog.moe",
        "harness.catalog.no_matmul",
        "harness.catalog.formulas",  # the LM head gap's FLOPs
    ),
}
_IDENTITY_FIELDS = ("kind", "config_sha256", "revision", "trust_remote_code")
_TAG = "$type"
_SCALARS = (str, int, float, bool, type(None))

T = TypeVar("T")


class CacheWriteWarning(UserWarning):
    """A result was computed but could not be stored; the next run computes it again."""


class UncacheableError(TypeError):
    """A value holds something JSON cannot carry losslessly; it is computed, not cached."""


@dataclass(frozen=True)
class CacheKey:
    """What a cached result depends on: the config, how it was built, and the code and versions."""

    kind: str
    config_sha256: str
    revision: str | None
    trust_remote_code: bool
    transformers: str
    torch: str
    harness: str
    code: str
    inputs: str = ""  # digest of other inputs, e.g. the mapped entries a FLOP check compares

    @property
    def identity(self) -> str:
        """The entry's file stem: a digest of the config sha256, revision and remote-code flag."""
        text = f"{self.config_sha256}\0{self.revision or ''}\0{int(self.trust_remote_code)}"
        return hashlib.sha256(text.encode()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        """The key as stored inside the entry."""
        return asdict(self)


@dataclass(frozen=True)
class Lookup:
    """The outcome of reading one entry: hit, missing, corrupt, stale or mismatch, and why."""

    status: str
    payload: dict[str, Any] | None = None
    detail: str = ""

    @property
    def hit(self) -> bool:
        """True when the entry can be used."""
        return self.status == "hit"


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


def cache_dir() -> Path:
    """The cache folder: $HARNESS_CACHE_DIR, else the user cache dir (~/.cache/harness on Linux)."""
    override = os.environ.get(CACHE_ENV, "").strip()
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def _version_of(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """transformers, torch and harness versions, read without importing torch or transformers."""
    from .version import __version__

    return {
        "transformers": _version_of("transformers"),
        "torch": _version_of("torch"),
        "harness": __version__,
    }


@cache
def code_digest(*modules: str) -> str:
    """sha256 over the source of modules (dotted names, found without importing them), in order."""
    digest = hashlib.sha256()
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"the cache's code digest names {name!r}, which is not found")
        digest.update(name.encode() + b"\0")
        digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()


def cache_key(
    resolved: ResolvedConfig,
    kind: str = INSPECTION,
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
    code_modules: tuple[str, ...] | None = None,
    inputs: str = "",
) -> CacheKey:
    """The key of one kind of result for a resolved config, with today's versions and code."""
    modules = code_modules if code_modules is not None else CODE_MODULES[kind]
    versions = package_versions()
    return CacheKey(
        kind=kind,
        config_sha256=resolved.sha256,
        revision=revision or resolved.revision,
        trust_remote_code=trust_remote_code,
        transformers=versions["transformers"],
        torch=versions["torch"],
        harness=versions["harness"],
        code=code_digest(*modules),
        # A config built natively behind its auto_map is another build than the refused one.
        inputs=f"{inputs}native-class" if resolved.native_class else inputs,
    )


def entry_path(key: CacheKey, directory: Path) -> Path:
    """The file of one entry: `<directory>/entries/<identity>.<kind>.jsonl`."""
    return directory / ENTRIES_DIR / f"{key.identity}.{key.kind}{ENTRY_SUFFIX}"


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
        return Lookup("missing", detail=f"no entry at {path}")
    except OSError as exc:
        return Lookup("corrupt", detail=f"{path} cannot be read: {exc.strerror or exc}")
    try:
        secret = _secret(directory, create=False)
    except OSError as exc:
        return Lookup("corrupt", detail=f"{path} is not trusted: {exc.strerror or exc}")
    if len(data) > MAX_ENTRY_BYTES:
        return Lookup("corrupt", detail=f"{path} is larger than any entry the harness writes")
    if secret is None:
        return Lookup("corrupt", detail=f"{path}: the cache has no key, so no entry is trusted")
    head, _, body = data.partition(b"\n")
    try:
        header = json.loads(head)
    except (ValueError, RecursionError) as exc:
        return Lookup("corrupt", detail=f"{path}: the header is not JSON: {exc}")
    if not isinstance(header, dict) or not isinstance(header.get("key"), dict):
        return Lookup("corrupt", detail=f"{path} is not a cache entry")
    if header.get("format") != FORMAT_VERSION:
        return Lookup("stale", detail=f"format {header.get('format')!r}, expected {FORMAT_VERSION}")
    stored, expected = header["key"], key.as_dict()
    wrong = [name for name in _IDENTITY_FIELDS if stored.get(name) != expected[name]]
    if wrong:
        return Lookup("mismatch", detail=f"{path} belongs to another key ({', '.join(wrong)})")
    outdated = [name for name in expected if stored.get(name) != expected[name]]
    if outdated or set(stored) != set(expected):
        return Lookup("stale", detail=f"{path} was made with other {', '.join(outdated) or 'keys'}")
    body = body.removesuffix(b"\n")
    stored_mac = header.get("payload_hmac")
    if not isinstance(stored_mac, str) or not hmac.compare_digest(
        stored_mac, _mac(secret, key, body)
    ):
        return Lookup("corrupt", detail=f"{path}: the payload does not match its HMAC (edited?)")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return Lookup("corrupt", detail=f"{path}: the payload is not JSON: {exc}")
    if not isinstance(payload, dict):
        return Lookup("corrupt", detail=f"{path}: the payload is not an object")
    return Lookup("hit", payload=payload)


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


def encode_value(value: Any) -> Any:
    """JSON-ready form of nested dicts, lists, tuples and scalars that decodes to an equal value."""
    kind = type(value)
    if kind is float and not math.isfinite(value):
        return {_TAG: "float", "value": repr(value)}
    if kind in _SCALARS:
        return value
    if kind is list:
        return [encode_value(item) for item in value]
    if kind is tuple:
        return {_TAG: "tuple", "items": [encode_value(item) for item in value]}
    if kind is dict:
        if all(type(k) is str for k in value) and _TAG not in value:
            return {k: encode_value(v) for k, v in value.items()}
        items = [[encode_value(k), encode_value(v)] for k, v in value.items()]
        return {_TAG: "dict", "items": items}
    raise UncacheableError(f"cannot cache a {kind.__name__} value losslessly")


def decode_value(data: Any) -> Any:
    """Inverse of encode_value; raises ValueError on a tag it does not know."""
    if isinstance(data, list):
        return [decode_value(item) for item in data]
    if not isinstance(data, dict):
        return data
    tag = data.get(_TAG)
    if tag is None:
        return {k: decode_value(v) for k, v in data.items()}
    if tag == "tuple":
        return tuple(decode_value(item) for item in data["items"])
    if tag == "dict":
        return {decode_value(k): decode_value(v) for k, v in data["items"]}
    if tag == "float" and data["value"] in {"nan", "inf", "-inf"}:
        return float(data["value"])
    raise ValueError(f"unknown cache tag {tag!r}")


def inspection_payload(inspection: Inspection) -> dict[str, Any]:
    """What an entry stores of an inspection (the resolved config is resolved again on load).

    Tensors are stored by field, one list per TensorRecord field: a third of the size of one
    object per tensor, and as much faster to parse.
    """
    tensors = inspection.tensors
    return {
        "model_class": inspection.model_class,
        "model_type": inspection.model_type,
        "versions": {name: str(version) for name, version in inspection.versions.items()},
        "notes": list(inspection.notes),
        "config": encode_value(inspection.config),
        "tensors": {
            "kind": [t.kind.value for t in tensors],
            "name": [t.name for t in tensors],
            "shape": [list(t.shape) for t in tensors],
            "dtype": [t.dtype for t in tensors],
            "module_class": [t.module_class for t in tensors],
            "aliases": [list(t.aliases) for t in tensors],
        },
    }


def _typed(value: Any, kind: type, what: str) -> Any:
    if type(value) is not kind:
        raise ValueError(f"cache entry field {what} is {type(value).__name__}, not {kind.__name__}")
    return value


def _strings(values: Any, what: str) -> list[str]:
    if type(values) is not list or not all(type(item) is str for item in values):
        raise ValueError(f"cache entry field {what} is not a list of strings")
    return values


def _lists_of(kind: type, values: Any, what: str) -> list[tuple[Any, ...]]:
    if type(values) is not list or not all(
        type(row) is list and all(type(item) is kind for item in row) for row in values
    ):
        raise ValueError(f"cache entry field {what} is not a list of lists of {kind.__name__}")
    return [tuple(row) for row in values]


def _tensors_from(data: Any) -> tuple[TensorRecord, ...]:
    if type(data) is not dict or data.keys() != _TENSOR_FIELDS:
        raise ValueError("cache entry tensors are not the TensorRecord fields")
    kinds = _strings(data["kind"], "tensor kind")
    columns = (
        kinds,
        _strings(data["name"], "tensor name"),
        _lists_of(int, data["shape"], "tensor shape"),
        _strings(data["dtype"], "tensor dtype"),
        _strings(data["module_class"], "tensor module_class"),
        _lists_of(str, data["aliases"], "tensor aliases"),
    )
    if len({len(column) for column in columns}) != 1 or not _TENSOR_KINDS.issuperset(kinds):
        raise ValueError("cache entry tensor fields differ in length or hold an unknown kind")
    return tuple(map(TensorRecord, *columns))


_TENSOR_FIELDS = frozenset(("kind", "name", "shape", "dtype", "module_class", "aliases"))
_TENSOR_KINDS = frozenset(kind.value for kind in TensorKind)


def inspection_from_payload(payload: dict[str, Any], resolved: ResolvedConfig) -> Inspection:
    """Rebuild an inspection from an entry's payload; raises ValueError/KeyError if malformed."""
    versions = decode_value(payload["versions"])
    config = decode_value(payload["config"])
    if not isinstance(config, dict) or not isinstance(versions, dict):
        raise ValueError("cache entry config and versions must be objects")
    if not all(type(version) is str for version in versions.values()):
        raise ValueError("cache entry versions must be strings")
    return Inspection(
        model=resolved.model,
        model_class=_typed(payload["model_class"], str, "model_class"),
        model_type=_typed(payload["model_type"], str, "model_type"),
        tensors=_tensors_from(payload["tensors"]),
        config=config,
        resolved=resolved,
        versions=versions,
        notes=tuple(_strings(payload["notes"], "notes")),
    )


def flops_payload(report: FlopsReport) -> dict[str, Any]:
    """What an entry stores of a FLOPs report: its JSON form, versions as strings."""
    versions = {name: str(version) for name, version in report.versions.items()}
    return encode_value({**report.as_dict(), "versions": versions})


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
