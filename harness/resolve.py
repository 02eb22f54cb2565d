"""Step 1, resolve: find a model's config.json offline-first (vendored snapshot, HF cache, Hub)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import (
    ConfigNotFoundError,
    GatedRepoError,
    InvalidConfigError,
    OfflineSnapshotMissingError,
)

__all__ = [
    "ResolvedConfig",
    "find_snapshots_dir",
    "find_upward",
    "get_model_config",
    "is_hf_id",
    "is_pinned_revision",
    "load_config_file",
    "model_slug",
    "offline_requested",
    "sha256_of",
    "snapshot_dir_for",
]

CONFIG_FILE = "config.json"
SNAPSHOT_META_FILE = "snapshot.json"
SNAPSHOTS_ENV = "HARNESS_SNAPSHOTS_DIR"
_HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
_PINNED = re.compile(r"^[0-9a-f]{40}$")


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
    return bool(_HF_ID.match(text)) and ".." not in text


def is_pinned_revision(revision: str | None) -> bool:
    """True when `revision` is a full 40-hex commit sha."""
    return bool(revision) and bool(_PINNED.match(revision or ""))


def model_slug(hf_id: str) -> str:
    """Mantile's model id for an HF id: `org/name` becomes `org_name`."""
    return hf_id.replace("/", "_")


def offline_requested(offline: bool | None) -> bool:
    """Offline when the caller says so, else when HF_HUB_OFFLINE is set to a true value."""
    if offline is not None:
        return offline
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def sha256_of(data: bytes) -> str:
    """Hex sha256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def find_snapshots_dir(start: Path | None = None) -> Path | None:
    """Vendored snapshots dir: $HARNESS_SNAPSHOTS_DIR, else `cases/configs` in cwd or a parent."""
    env = os.environ.get(SNAPSHOTS_ENV)
    if env:
        return Path(env)
    return find_upward("cases/configs", start)


def find_upward(relative: str, start: Path | None = None) -> Path | None:
    """The folder `relative` below the working directory (or `start`) or its nearest parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / relative
        if candidate.is_dir():
            return candidate
    return None


def snapshot_dir_for(hf_id: str, snapshots_dir: Path) -> Path:
    """The folder of one vendored snapshot: `<snapshots_dir>/<org>/<name>`."""
    org, name = hf_id.split("/", 1)
    return snapshots_dir / org / name


def load_config_file(path: Path) -> tuple[dict[str, Any], bytes]:
    """Read and parse a config.json, raising InvalidConfigError with file, line and column."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InvalidConfigError(f"{path} is a folder, not a config.json file") from None
    except OSError as exc:
        raise ConfigNotFoundError(
            f"cannot read {path}: {exc.strerror or exc}; check the path and its permissions"
        ) from None
    try:
        parsed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidConfigError(
            f"{path} is not UTF-8 text (byte {exc.start}); a config.json must be JSON text"
        ) from None
    except json.JSONDecodeError as exc:
        raise InvalidConfigError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; "
            "fix the file or download config.json again"
        ) from None
    if not isinstance(parsed, dict):
        raise InvalidConfigError(
            f"{path} holds a JSON {type(parsed).__name__}, not an object; "
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
    text = os.fspath(model)
    local = Path(text)
    if local.is_dir() or local.is_file() or text.endswith(".json"):
        return _from_local_path(text, local)
    if not is_hf_id(text):
        raise ConfigNotFoundError(
            f"{text!r} is neither an existing path nor a Hub id of the form 'org/name'; "
            "pass a config.json path, a folder holding one, "
            "or an id such as meta-llama/Llama-3.2-1B"
        )
    snapshots = snapshots_dir if snapshots_dir is not None else find_snapshots_dir()
    if snapshots is not None:
        vendored = _from_snapshot(text, revision, snapshots)
        if vendored is not None:
            return vendored
    cached = _from_hf_cache(text, revision)
    if cached is not None:
        return cached
    if offline_requested(offline):
        where = snapshots if snapshots is not None else "cases/configs (not found)"
        raise OfflineSnapshotMissingError(
            f"offline mode: no vendored snapshot of {text} in {where} and none in the HF cache; "
            f"vendor one with `harness add {text} --config path/to/config.json`, "
            "or run online once without --offline / HF_HUB_OFFLINE"
        )
    return _from_hub(text, revision, token)


def _from_local_path(text: str, local: Path) -> ResolvedConfig:
    path = local / CONFIG_FILE if local.is_dir() else local
    if not path.exists():
        raise ConfigNotFoundError(
            f"no config file at {path}; pass a config.json or a folder that holds one"
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
    if not path.is_file():
        return None
    meta_path = folder / SNAPSHOT_META_FILE
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        loaded, _ = load_config_file(meta_path)
        meta = loaded
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
        downloaded = hf_hub_download(hf_id, CONFIG_FILE, revision=revision, token=token)
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
    except (hub_errors.LocalEntryNotFoundError, OSError) as exc:
        raise ConfigNotFoundError(
            f"could not reach the Hub for {hf_id} ({type(exc).__name__}); "
            "work offline with a vendored snapshot (`harness add`) or check the network"
        ) from None
    except hub_errors.EntryNotFoundError:
        raise ConfigNotFoundError(
            f"{hf_id} has no config.json at revision {revision or 'main'}; "
            "it may not be a transformers model"
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
