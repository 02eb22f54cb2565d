"""Step 1, resolve: find a model's config.json offline-first (vendored snapshot, HF cache, Hub)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import (
    ConfigNotFoundError,
    GatedRepoError,
    InvalidConfigError,
    OfflineSnapshotMissingError,
)
from ..files import NotARegularFileError, read_regular_file

__all__ = [
    "ResolvedConfig",
    "case_snapshots_dir",
    "find_snapshots_dir",
    "get_model_config",
    "get_remote_config",
    "hub_offline",
    "is_hf_id",
    "is_pinned_revision",
    "is_valid_revision",
    "load_config_file",
    "model_slug",
    "offline_requested",
    "parse_config_text",
    "project_dir",
    "sha256_of",
    "snapshot_dir_for",
]

CONFIG_FILE = "config.json"
SNAPSHOT_META_FILE = "snapshot.json"
SNAPSHOTS_ENV = "HARNESS_SNAPSHOTS_DIR"
HUB_TIMEOUT = 5.0  # seconds for the harness's first Hub request; no network fails within it
# Matched with fullmatch: `$` would also accept a trailing newline ("org/name\n").
_HF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")
_PINNED = re.compile(r"[0-9a-f]{40}")
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,254}")
MAX_CONFIG_BYTES = 16 * 2**20
MAX_SIZE_DIGITS = 18  # a size, count or parameter total of a Mantile config is below 10^18
_MAX_INT_DIGITS = 100
_JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_JSON_TYPES[type(None)] = "null"


@dataclass(frozen=True)
class ResolvedConfig:
    """A config.json found for a model, with where it came from and its digest."""

    model: str
    config: dict[str, Any]
    source: str  # "snapshot", "file", "hf-cache" or "hub"
    sha256: str
    hf_id: str | None = None
    path: str | None = None
    revision: str | None = None
    provenance: str | None = None
    snapshot: dict[str, Any] = field(default_factory=dict)
    offline: bool = False  # resolved offline: later steps (opted-in Hub code) stay offline too
    # The caller opted in to building the transformers class `architectures` names although
    # `auto_map` points at Hub code (Kimi-K2: kimi_k2 code, DeepseekV3ForCausalLM class).
    native_class: bool = False

    @property
    def display_path(self) -> str:
        """Where the config was read from, relative to the working directory when inside it."""
        if self.path is None:
            return "<memory>"
        try:
            return str(Path(self.path).resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return self.path


def is_hf_id(text: str) -> bool:
    """True when `text` has the shape of a Hub repo id `org/name` (no traversal, no odd chars)."""
    return isinstance(text, str) and bool(_HF_ID.fullmatch(text)) and ".." not in text


def is_pinned_revision(revision: str | None) -> bool:
    """True when `revision` is a full 40-hex commit sha."""
    return isinstance(revision, str) and bool(_PINNED.fullmatch(revision))


def is_valid_revision(revision: str) -> bool:
    """True when `revision` can name a branch, tag or commit (no traversal, no odd characters)."""
    return (
        isinstance(revision, str)
        and bool(_REVISION.fullmatch(revision))
        and ".." not in revision
        and "//" not in revision
    )


def model_slug(hf_id: str) -> str:
    """Mantile's model id for an HF id: `org/name` becomes `org_name`."""
    return hf_id.replace("/", "_")


def offline_requested(offline: bool | None) -> bool:
    """Offline when the caller says so, else when HF_HUB_OFFLINE is set to a true value."""
    if offline is not None:
        return offline
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


@contextlib.contextmanager
def hub_offline(offline: bool = True) -> Iterator[None]:
    """While inside (when `offline`), huggingface_hub refuses every HTTP request, whichever
    library makes it (transformers' remote-code fetch included)."""
    if not offline:
        yield
        return
    from huggingface_hub import constants

    previous = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = previous


@contextlib.contextmanager
def _quiet_hub() -> Iterator[None]:
    """huggingface_hub's retry warnings are not the harness's output: one error line is."""
    logger = logging.getLogger("huggingface_hub")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


@contextlib.contextmanager
def _one_hub_request() -> Iterator[None]:
    """hf_hub_download as one request: without its second round (after a failed first request
    with nothing cached it retries five times with backoff, about 20 s with no network) and
    without the telemetry side-request its user-agent header makes once per process (an agent
    registry fetch with its own 3 s timeout). The harness asks once, within HUB_TIMEOUT, and
    says what to do instead."""
    from huggingface_hub import constants, file_download

    patched = {
        (file_download, "_DEFAULT_RETRY_ON_EXCEPTIONS"): (),
        (file_download, "_DEFAULT_RETRY_ON_STATUS_CODES"): (),
        (constants, "HF_HUB_DISABLE_TELEMETRY"): True,
    }
    previous = {place: getattr(*place) for place in patched if hasattr(*place)}
    for (module, name), value in patched.items():
        if (module, name) in previous:
            setattr(module, name, value)
    try:
        yield
    finally:
        for (module, name), value in previous.items():
            setattr(module, name, value)


def _is_network_error(exc: BaseException) -> bool:
    try:
        import httpx2
    except ImportError:  # pragma: no cover - huggingface_hub depends on it
        return isinstance(exc, OSError | TimeoutError)
    return isinstance(exc, httpx2.TransportError | OSError | TimeoutError)


def sha256_of(data: bytes) -> str:
    """Hex sha256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def find_snapshots_dir(start: Path | None = None) -> Path | None:
    """Vendored snapshots: $HARNESS_SNAPSHOTS_DIR, else `cases/configs` in the working directory.

    Never a parent's: a `cases/` folder above the working directory may belong to anyone (see
    docs/security.md), so only the folder the harness runs in, or one named explicitly, counts.
    """
    cases = project_dir("cases", start)
    return case_snapshots_dir(cases) if cases is not None else _env_snapshots()


def case_snapshots_dir(cases_dir: str | os.PathLike[str]) -> Path:
    """Vendored snapshots of a cases folder: $HARNESS_SNAPSHOTS_DIR, else `<cases_dir>/configs`."""
    return _env_snapshots() or Path(cases_dir) / "configs"


def _env_snapshots() -> Path | None:
    env = os.environ.get(SNAPSHOTS_ENV)
    return Path(env) if env else None


def project_dir(relative: str, start: Path | None = None) -> Path | None:
    """The folder `relative` inside the working directory (or `start`), if it is a folder."""
    candidate = (start or Path.cwd()) / relative
    return candidate if candidate.is_dir() else None


def snapshot_dir_for(hf_id: str, snapshots_dir: Path) -> Path:
    """The folder of one vendored snapshot: `<snapshots_dir>/<org>/<name>`."""
    org, name = hf_id.split("/", 1)
    return snapshots_dir / org / name


class _NotStrictJSON(ValueError):
    """Raised by the parser hooks: a value Python's json accepts but JSON does not (NaN, 1e999)."""


def _refuse_constant(text: str) -> Any:
    raise _NotStrictJSON(f"{text} is not a JSON number; write a plain number or null")


def _infinity_only(text: str) -> Any:
    """`Infinity` and `-Infinity` as floats: transformers writes them itself (Mamba-2 and
    Nemotron-H save `time_step_limit` as [0.0, Infinity]) and reads them back. NaN stays
    refused: nothing real writes it."""
    if text in {"Infinity", "-Infinity"}:
        return float(text)
    return _refuse_constant(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotStrictJSON(f"{text} overflows to {value}; write a plain number or null")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise _NotStrictJSON(
            f"an integer of {len(text.lstrip('-')):,} digits is no config value; fix the number"
        )
    return int(text)


def _size_int(text: str) -> int:
    """An integer that can be a size or count: at most MAX_SIZE_DIGITS digits."""
    digits = len(text.lstrip("-"))
    if digits > MAX_SIZE_DIGITS:
        raise _NotStrictJSON(f"an integer of {digits:,} digits is no size or count; fix the number")
    return int(text)


def _size_float(text: str) -> float:
    value = _finite_float(text)
    if abs(value) >= 10**MAX_SIZE_DIGITS:
        raise _NotStrictJSON(f"{text} is no size or count (10^{MAX_SIZE_DIGITS} or more); fix it")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _NotStrictJSON(f"key {key!r} appears twice in one object; keep one of them")
        result[key] = value
    return result


def parse_config_text(
    data: bytes,
    where: str,
    fix: str = "fix the file or download config.json again",
    *,
    sizes_only: bool = False,
    allow_infinity: bool = False,
) -> Any:
    """Parse strict JSON: no NaN/Infinity, no duplicate keys, no lone surrogates.

    Raises InvalidConfigError naming `where`. With `sizes_only` (a Mantile config, whose numbers
    are sizes, counts and totals), a number of MAX_SIZE_DIGITS digits or more is refused too, so no
    later arithmetic on it can overflow a float. `allow_infinity`: accept `Infinity`/`-Infinity`,
    as a transformers config.json may hold them.
    """
    parsed = _parse_strict(data, where, fix, sizes_only, allow_infinity)
    try:
        # A lone surrogate ("\ud800") parses, but cannot be written out or printed as UTF-8.
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        shown = ascii(exc.object[exc.start : exc.end])[1:-1]
        raise InvalidConfigError(
            f"{where} holds a lone UTF-16 surrogate ({shown}) in a string, which is not text; {fix}"
        ) from None
    except RecursionError:
        raise InvalidConfigError(f"{where} nests JSON too deeply to be a config; {fix}") from None
    return parsed


def _parse_strict(
    data: bytes, where: str, fix: str, sizes_only: bool, allow_infinity: bool = False
) -> Any:
    try:
        return json.loads(
            data.decode("utf-8"),
            parse_constant=_infinity_only if allow_infinity else _refuse_constant,
            parse_float=_size_float if sizes_only else _finite_float,
            parse_int=_size_int if sizes_only else _bounded_int,
            object_pairs_hook=_unique_keys,
        )
    except UnicodeDecodeError as exc:
        raise InvalidConfigError(
            f"{where} is not UTF-8 text (byte {exc.start}); a config.json must be JSON text"
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidConfigError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; {fix}"
        ) from None
    except _NotStrictJSON as exc:
        raise InvalidConfigError(f"{where} is not strict JSON: {exc}") from None
    except RecursionError:
        raise InvalidConfigError(
            f"{where} nests JSON too deeply to be a config.json; download config.json again"
        ) from None
    except ValueError as exc:
        raise InvalidConfigError(
            f"{where} is not valid JSON: {_first_line(exc)}; download config.json again"
        ) from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def load_config_file(path: Path) -> tuple[dict[str, Any], bytes]:
    """Read and parse a config.json, raising InvalidConfigError with file, line and column."""
    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES)
    except NotARegularFileError as exc:
        if exc.kind == "a folder":
            raise InvalidConfigError(f"{path} is a folder, not a config.json file") from None
        raise InvalidConfigError(
            f"{path} {exc.strerror}; pass the {path.name} file itself"
        ) from None
    except OSError as exc:
        raise ConfigNotFoundError(
            f"cannot read {path}: {exc.strerror or exc}; check the path and its permissions"
        ) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InvalidConfigError(
            f"{path} is larger than {MAX_CONFIG_BYTES // 2**20} MiB; a config.json is a few KB "
            "of settings, so this is not one: pass the model's config.json"
        )
    parsed = parse_config_text(data, str(path), allow_infinity=True)
    if not isinstance(parsed, dict):
        raise InvalidConfigError(
            f"{path} holds a JSON {_JSON_TYPES.get(type(parsed), 'value')}, not an object; "
            "a config.json is one JSON object of model settings"
        )
    return parsed, data


def get_model_config(
    model: str | os.PathLike[str],
    revision: str | None = None,
    *,
    offline: bool | None = None,
    token: str | None = None,
    snapshots_dir: Path | None = None,
) -> ResolvedConfig:
    """Resolve `model` (HF id, config.json path, or dir with one) to its config, offline-first."""
    found = _find_config(model, revision, offline=offline, token=token, snapshots_dir=snapshots_dir)
    return replace(found, offline=offline_requested(offline))


def _find_config(
    model: str | os.PathLike[str],
    revision: str | None,
    *,
    offline: bool | None,
    token: str | None,
    snapshots_dir: Path | None,
) -> ResolvedConfig:
    text = os.fspath(model)
    if not text.strip():
        raise ConfigNotFoundError(
            "the model is empty; pass an HF id such as meta-llama/Llama-3.2-1B, "
            "a config.json path, or a folder holding one"
        )
    local = Path(text)
    if _is_local(local) or text.endswith(".json"):
        return _from_local_path(text, local)
    if not is_hf_id(text):
        raise ConfigNotFoundError(
            f"{_shown(text)} is neither an existing path nor a Hub id of the form 'org/name'; "
            "pass a config.json path, a folder holding one, "
            "or an id such as meta-llama/Llama-3.2-1B"
        )
    snapshots = snapshots_dir if snapshots_dir is not None else find_snapshots_dir()
    if snapshots is not None:
        vendored = _from_snapshot(text, revision, snapshots)
        if vendored is not None:
            return vendored
    where = snapshots if snapshots is not None else "cases/configs (not found)"
    return get_remote_config(text, revision, offline=offline, token=token, snapshots_dir=where)


def get_remote_config(
    hf_id: str,
    revision: str | None = None,
    *,
    offline: bool | None = None,
    token: str | None = None,
    snapshots_dir: str | Path = "cases/configs",
) -> ResolvedConfig:
    """`hf_id`'s config from the HF cache, else from the Hub unless offline; never a snapshot."""
    if not is_hf_id(hf_id):
        raise ConfigNotFoundError(
            f"{_shown(hf_id)} is not a Hub id of the form 'org/name'; "
            "pass an id such as meta-llama/Llama-3.2-1B"
        )
    if revision is not None and not is_valid_revision(revision):
        raise ConfigNotFoundError(
            f"revision {_shown(revision)} of {hf_id} is not a branch, tag or commit name "
            "(letters, digits, '.', '_', '-', '/'; no '..'); pass e.g. main or a 40-hex commit"
        )
    cached = _from_hf_cache(hf_id, revision)
    if cached is not None:
        return cached
    if offline_requested(offline):
        raise OfflineSnapshotMissingError(
            f"offline mode: no vendored snapshot of {hf_id} in {snapshots_dir} and none in the "
            f"HF cache; vendor one with `harness add {hf_id} --config path/to/config.json`, "
            "or run online once without --offline / HF_HUB_OFFLINE"
        )
    return _from_hub(hf_id, revision, token)


def _shown(text: str, limit: int = 100) -> str:
    """`text` quoted for a message, cut to `limit` characters."""
    return repr(text if len(text) <= limit else f"{text[:limit]}…")


def _is_local(path: Path) -> bool:
    """True for anything at `path` (file, folder, FIFO, device, even a dangling symlink), so a
    special file is reported for what it is; False where the OS refuses the name (too long, NUL)."""
    try:
        return path.exists() or path.is_symlink()
    except (OSError, ValueError):
        return False


def _from_local_path(text: str, local: Path) -> ResolvedConfig:
    path = local / CONFIG_FILE if _is_local(local) and local.is_dir() else local
    if not _is_local(path):
        raise ConfigNotFoundError(
            f"no config file at {_shown(str(path), 4096)}; "
            "pass a config.json or a folder that holds one"
        )
    config, data = load_config_file(path)
    return ResolvedConfig(
        model=text,
        config=config,
        source="file",
        sha256=sha256_of(data),
        hf_id=None,
        path=str(path),
    )


def _from_snapshot(hf_id: str, revision: str | None, snapshots: Path) -> ResolvedConfig | None:
    folder = snapshot_dir_for(hf_id, snapshots)
    path = folder / CONFIG_FILE
    meta_path = folder / SNAPSHOT_META_FILE
    if not _is_local(path) and not _is_local(meta_path):
        return None
    if not _is_local(meta_path):
        raise InvalidConfigError(
            f"the vendored snapshot of {hf_id} has no snapshot.json in {folder}, so nothing pins "
            f"its config.json (its sha256, revision and provenance); re-vendor it with "
            f"`harness add {hf_id} --config <the config.json you trust>` after moving the folder "
            "away, or write snapshot.json with the sha256 of config.json"
        )
    if not _is_local(path):
        raise InvalidConfigError(
            f"the vendored snapshot of {hf_id} in {folder} has a snapshot.json but no config.json; "
            f"restore config.json, or delete the folder and vendor it again with `harness add`"
        )
    loaded, _ = load_config_file(meta_path)
    meta = _checked_snapshot_meta(loaded, meta_path)
    pinned = meta.get("revision")
    if revision is not None and pinned is not None and revision != pinned:
        return None
    config, data = load_config_file(path)
    digest = sha256_of(data)
    expected = meta.get("sha256")
    if expected is not None and expected != digest:
        raise InvalidConfigError(
            f"{path} does not match the sha256 recorded in {meta_path} "
            f"(recorded {expected[:12]}…, file {digest[:12]}…); if the edit is intended, "
            "re-vendor with `harness add` or update the sha256 field"
        )
    return ResolvedConfig(
        model=hf_id,
        config=config,
        source="snapshot",
        sha256=digest,
        hf_id=hf_id,
        path=str(path),
        revision=pinned,
        provenance=meta.get("provenance"),
        snapshot=meta,
    )


def _checked_snapshot_meta(meta: dict[str, Any], meta_path: Path) -> dict[str, Any]:
    """The snapshot.json fields the harness trusts, or InvalidConfigError naming the field."""
    digest = meta.get("sha256")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise InvalidConfigError(
            f"{meta_path}: `sha256` is {json.dumps(digest)}, not the 64-hex sha256 of config.json; "
            "set it to the output of `sha256sum config.json` or re-vendor with `harness add`"
        )
    for key in ("revision", "provenance", "hf_id"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise InvalidConfigError(
                f"{meta_path}: `{key}` is {json.dumps(meta[key])}, not a string; fix the field"
            )
    return meta


def _from_hf_cache(hf_id: str, revision: str | None) -> ResolvedConfig | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(hf_id, CONFIG_FILE, revision=revision)
    if not isinstance(found, str):
        return None
    path = Path(found)
    config, data = load_config_file(path)
    return ResolvedConfig(
        model=hf_id,
        config=config,
        source="hf-cache",
        sha256=sha256_of(data),
        hf_id=hf_id,
        path=str(path),
        revision=revision,
    )


def _from_hub(hf_id: str, revision: str | None, token: str | None) -> ResolvedConfig:
    from huggingface_hub import errors as hub_errors
    from huggingface_hub import hf_hub_download

    try:
        with _quiet_hub(), _one_hub_request():
            downloaded = hf_hub_download(
                hf_id, CONFIG_FILE, revision=revision, token=token, etag_timeout=HUB_TIMEOUT
            )
    except hub_errors.GatedRepoError:
        raise GatedRepoError(
            f"{hf_id} is gated: accept its licence on its Hub page, then authenticate with "
            "`hf auth login` or set HF_TOKEN, or vendor its config.json with `harness add`"
        ) from None
    except hub_errors.RevisionNotFoundError:
        raise ConfigNotFoundError(
            f"revision {revision!r} of {hf_id} does not exist on the Hub; "
            "check the branch, tag or commit sha"
        ) from None
    except hub_errors.RepositoryNotFoundError:
        raise ConfigNotFoundError(
            f"{hf_id} was not found on the Hub (or it is private); check the id, "
            "or authenticate with `hf auth login` / HF_TOKEN if it is private"
        ) from None
    except hub_errors.LocalEntryNotFoundError as exc:
        raise _unreachable(hf_id, exc) from None
    except hub_errors.EntryNotFoundError:
        raise ConfigNotFoundError(
            f"{hf_id} has no config.json at revision {revision or 'main'}; "
            "it may not be a transformers model"
        ) from None
    except hub_errors.HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise ConfigNotFoundError(
            f"the Hub answered HTTP {status or 'error'} for {hf_id}'s config.json; "
            "if the repository is private check your token (`hf auth login` / HF_TOKEN), "
            "else retry later or vendor its config.json with `harness add`"
        ) from None
    except Exception as exc:  # network and validation errors; their text may carry the token
        if _is_network_error(exc):
            raise _unreachable(hf_id, exc) from None
        raise ConfigNotFoundError(
            f"could not download {hf_id}'s config.json from the Hub ({type(exc).__name__}); "
            "work offline with a vendored snapshot (`harness add`) or check the network and id"
        ) from None
    path = Path(downloaded)
    config, data = load_config_file(path)
    return ResolvedConfig(
        model=hf_id,
        config=config,
        source="hub",
        sha256=sha256_of(data),
        hf_id=hf_id,
        path=str(path),
        revision=revision,
    )


def _unreachable(hf_id: str, exc: BaseException) -> ConfigNotFoundError:
    return ConfigNotFoundError(
        f"could not reach the Hub for {hf_id} ({type(exc).__name__}): no network? Pass --offline "
        "(or set HF_HUB_OFFLINE=1) to use only vendored snapshots and the HF cache, vendor the "
        f"config with `harness add {hf_id} --config config.json`, or check the network"
    )
