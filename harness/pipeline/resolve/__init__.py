"""Step 1, resolve: find a model's config.json offline-first (vendored snapshot, HF cache, Hub).

The modules: `records` (ResolvedConfig, Hub ids and revisions), `find` (a model resolved:
`get_model_config`), `snapshots` (vendored snapshots), `hub` (the HF cache and the Hub) and
`json_text` (config.json read strictly).
"""

from __future__ import annotations

from .find import get_model_config
from .hub import get_remote_config, hub_offline, offline_requested
from .json_text import MAX_CONFIG_BYTES, load_config_file, parse_config_text
from .records import (
    CONFIG_FILE,
    SNAPSHOT_META_FILE,
    ConfigSource,
    ResolvedConfig,
    is_hf_id,
    is_pinned_revision,
    is_valid_revision,
    model_slug,
    sha256_of,
)
from .snapshots import case_snapshots_dir, find_snapshots_dir, project_dir, snapshot_dir_for

__all__ = [
    "CONFIG_FILE",
    "MAX_CONFIG_BYTES",
    "SNAPSHOT_META_FILE",
    "ConfigSource",
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
