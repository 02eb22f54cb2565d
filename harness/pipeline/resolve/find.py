"""A model resolved offline-first: a local path, a vendored snapshot, the HF cache, the Hub."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from ...errors import ConfigNotFoundError
from .hub import get_remote_config, offline_requested
from .json_text import load_config_file
from .records import (
    CONFIG_FILE,
    ConfigSource,
    ResolvedConfig,
    _is_local,
    _shown,
    is_hf_id,
    sha256_of,
)
from .snapshots import _from_snapshot, find_snapshots_dir

__all__ = ["get_model_config"]


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
        source=ConfigSource.FILE,
        sha256=sha256_of(data),
        hf_id=None,
        path=str(path),
    )
