"""The resolved config, and what names a model: Hub ids, revisions, digests."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...enums import StrEnum

__all__ = [
    "CONFIG_FILE",
    "SNAPSHOT_META_FILE",
    "ConfigSource",
    "ResolvedConfig",
    "is_hf_id",
    "is_pinned_revision",
    "is_valid_revision",
    "model_slug",
    "sha256_of",
]


CONFIG_FILE = "config.json"
SNAPSHOT_META_FILE = "snapshot.json"


# Matched with fullmatch: `$` would also accept a trailing newline ("org/name\n").
_HF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")
_PINNED = re.compile(r"[0-9a-f]{40}")
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,254}")


class ConfigSource(StrEnum):
    """Where a config.json came from."""

    SNAPSHOT = "snapshot"  # vendored in cases/configs
    FILE = "file"  # a path given
    HF_CACHE = "hf-cache"
    HUB = "hub"
    MEMORY = "memory"  # a dict held in memory (the coverage sweep, tests)


@dataclass(frozen=True)
class ResolvedConfig:
    """A config.json found for a model, with where it came from and its digest."""

    model: str
    config: dict[str, Any]
    source: ConfigSource
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", ConfigSource(self.source))

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


def sha256_of(data: bytes) -> str:
    """Hex sha256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


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
