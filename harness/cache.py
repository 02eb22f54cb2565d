"""Inspection cache: dry-run results on disk, so a warm run neither builds models nor imports torch.

An entry is keyed by the config's sha256, the effective revision and trust_remote_code (its file
name), and is valid only for the transformers, torch and harness versions and the source of the
code that computed it (recorded inside it). Entries are JSON with a format version and a sha256 of
their payload, written atomically. A missing, corrupt, truncated, stale or mismatched entry is
never trusted: the result is computed again and the entry rewritten. Versions are read with
importlib.metadata, so checking an entry imports neither torch nor transformers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .inspection import Inspection, TensorRecord
from .resolve import ResolvedConfig
from .writers import atomic_write_text

if TYPE_CHECKING:
    from .flops import FlopsReport
    from .mapping import LayerEntry

__all__ = [
    "CACHE_ENV",
    "FORMAT_VERSION",
    "CacheInfo",
    "CacheKey",
    "CacheWriteWarning",
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
    "flops_cached",
    "inspect_cached",
    "inspection_from_payload",
    "inspection_payload",
    "package_versions",
    "read_entry",
    "write_entry",
]

CACHE_ENV = "HARNESS_CACHE_DIR"
FORMAT_VERSION = 2
APP_NAME = "harness"
ENTRIES_DIR = "entries"
ENTRY_SUFFIX = ".jsonl"
INSPECTION = "inspection"
FLOPS = "flops"
# The harness modules whose source decides each kind of cached result.
CODE_FILES: dict[str, tuple[str, ...]] = {
    INSPECTION: ("cache.py", "inspection.py", "limits.py"),
    FLOPS: ("cache.py", "flops.py", "inspection.py", "catalog.py"),
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
    from . import __version__

    return {
        "transformers": _version_of("transformers"),
        "torch": _version_of("torch"),
        "harness": __version__,
    }


@cache
def code_digest(*files: str) -> str:
    """sha256 over the source of harness modules (file names in this package), in order."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0")
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def cache_key(
    resolved: ResolvedConfig,
    kind: str = INSPECTION,
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
    code_files: tuple[str, ...] | None = None,
    inputs: str = "",
) -> CacheKey:
    """The key of one kind of result for a resolved config, with today's versions and code."""
    files = code_files if code_files is not None else CODE_FILES[kind]
    versions = package_versions()
    return CacheKey(
        kind=kind,
        config_sha256=resolved.sha256,
        revision=revision or resolved.revision,
        trust_remote_code=trust_remote_code,
        transformers=versions["transformers"],
        torch=versions["torch"],
        harness=versions["harness"],
        code=code_digest(*files),
        # A config built natively behind its auto_map is another build than the refused one.
        inputs=f"{inputs}native-class" if resolved.native_class else inputs,
    )


def entry_path(key: CacheKey, directory: Path) -> Path:
    """The file of one entry: `<directory>/entries/<identity>.<kind>.jsonl`."""
    return directory / ENTRIES_DIR / f"{key.identity}.{key.kind}{ENTRY_SUFFIX}"


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def read_entry(key: CacheKey, directory: Path) -> Lookup:
    """Read the entry for `key` and say whether it can be trusted; never raises for bad files.

    An entry is two JSON lines: a header (format, key, the payload's sha256), then the payload.
    The header is checked before the payload is hashed, and the payload parsed only if it matches.
    """
    path = entry_path(key, directory)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Lookup("missing", detail=f"no entry at {path}")
    except OSError as exc:
        return Lookup("corrupt", detail=f"{path} cannot be read: {type(exc).__name__}")
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
    if header.get("payload_sha256") != hashlib.sha256(body).hexdigest():
        return Lookup("corrupt", detail=f"{path}: the payload does not match its sha256")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return Lookup("corrupt", detail=f"{path}: the payload is not JSON: {exc}")
    if not isinstance(payload, dict):
        return Lookup("corrupt", detail=f"{path}: the payload is not an object")
    return Lookup("hit", payload=payload)


def write_entry(key: CacheKey, payload: dict[str, Any], directory: Path) -> Path:
    """Write one entry atomically: a header line (format, key, payload sha256), the payload line."""
    body = _compact(payload)
    header = {
        "format": FORMAT_VERSION,
        "key": key.as_dict(),
        "payload_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
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
        f"{key.kind} cache entry not written for config {key.config_sha256[:12]}… in {folder}: "
        f"{advice}",
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
            "kind": [t.kind for t in tensors],
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
_TENSOR_KINDS = frozenset(("param", "buffer"))


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


def inspect_cached(
    resolved: ResolvedConfig,
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
    use_cache: bool = True,
    directory: Path | None = None,
) -> Inspection:
    """inspect_resolved through the cache: a warm hit builds nothing and imports no torch."""
    from .inspection import inspect_resolved

    key = cache_key(resolved, trust_remote_code=trust_remote_code, revision=revision)
    return cached(
        key,
        lambda: inspect_resolved(resolved, trust_remote_code=trust_remote_code, revision=revision),
        encode=inspection_payload,
        decode=lambda payload: inspection_from_payload(payload, resolved),
        directory=directory,
        use_cache=use_cache,
    )


def flops_cached(
    resolved: ResolvedConfig,
    entries: Sequence[LayerEntry],
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
    use_cache: bool = True,
    directory: Path | None = None,
) -> FlopsReport:
    """flops.cross_check through the cache, keyed also by the entries it compares."""
    from .flops import FlopsReport, cross_check

    inputs = hashlib.sha256(repr(tuple(entries)).encode()).hexdigest()
    key = cache_key(
        resolved, FLOPS, trust_remote_code=trust_remote_code, revision=revision, inputs=inputs
    )
    return cached(
        key,
        lambda: cross_check(resolved, entries, trust_remote_code=trust_remote_code),
        encode=_flops_payload,
        decode=lambda payload: replace(
            FlopsReport.from_dict(decode_value(payload)), model=resolved.hf_id or resolved.model
        ),
        directory=directory,
        use_cache=use_cache,
    )


def _flops_payload(report: FlopsReport) -> dict[str, Any]:
    versions = {name: str(version) for name, version in report.versions.items()}
    return encode_value({**report.as_dict(), "versions": versions})


def _entry_files(directory: Path) -> list[Path]:
    folder = directory / ENTRIES_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(ENTRY_SUFFIX))


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


def clear_cache(directory: Path | None = None) -> int:
    """Delete every entry (and leftover temporary file) of the cache folder; return the count."""
    folder = directory if directory is not None else cache_dir()
    files = _entry_files(folder)
    temporary = folder / ENTRIES_DIR
    leftovers = sorted(temporary.glob(".*.tmp")) if temporary.is_dir() else []
    for path in [*files, *leftovers]:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        temporary.rmdir()
    return len(files)
