"""Vendored snapshots: where cases/configs is, and a model's snapshot read and checked."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ...errors import InvalidConfigError
from .json_text import load_config_file
from .records import (
    CONFIG_FILE,
    SNAPSHOT_META_FILE,
    ConfigSource,
    ResolvedConfig,
    _is_local,
    sha256_of,
)

__all__ = ["case_snapshots_dir", "find_snapshots_dir", "project_dir", "snapshot_dir_for"]


SNAPSHOTS_ENV = "HARNESS_SNAPSHOTS_DIR"


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
        source=ConfigSource.SNAPSHOT,
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
