"""What an entry belongs to: the config, the versions and the source of the code computing it."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ..pipeline.resolve import ResolvedConfig

__all__ = [
    "CACHE_ENV",
    "CODE_MODULES",
    "FLOPS",
    "FORMAT_VERSION",
    "INSPECTION",
    "CacheKey",
    "cache_dir",
    "cache_key",
    "code_digest",
    "entry_path",
    "package_versions",
]


CACHE_ENV = "HARNESS_CACHE_DIR"
FORMAT_VERSION = 3
APP_NAME = "harness"
ENTRIES_DIR = "entries"
ENTRY_SUFFIX = ".jsonl"
INSPECTION = "inspection"
FLOPS = "flops"


# The cache's own modules that decide what an entry holds: its key, its format, its codecs.
_CACHE = ("harness.cache.keys", "harness.cache.entries", "harness.cache.codecs")
# The harness modules whose source decides each kind of cached result: the cache's own codecs,
# the API that composes the computation, and the steps that compute it.
CODE_MODULES: dict[str, tuple[str, ...]] = {
    INSPECTION: (
        *_CACHE,
        "harness.api",
        "harness.pipeline.inventory",
        "harness.limits",
    ),
    FLOPS: (
        *_CACHE,
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
    from ..version import __version__

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
