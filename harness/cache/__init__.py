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

The modules: `keys` (the key of an entry and the code it depends on), `entries` (one entry read
and written, `cached`), `codecs` (the payloads) and `maintenance` (info, clear).
"""

from __future__ import annotations

from .codecs import (
    UncacheableError,
    decode_value,
    encode_value,
    flops_payload,
    inspection_from_payload,
    inspection_payload,
)
from .entries import (
    KEY_FILE,
    CacheWriteWarning,
    Lookup,
    LookupStatus,
    cached,
    read_entry,
    write_entry,
)
from .keys import (
    CACHE_ENV,
    CODE_MODULES,
    FLOPS,
    FORMAT_VERSION,
    INSPECTION,
    CacheKey,
    cache_dir,
    cache_key,
    code_digest,
    entry_path,
    package_versions,
)
from .maintenance import CacheInfo, ClearResult, cache_info, clear_cache

__all__ = [
    "CACHE_ENV",
    "CODE_MODULES",
    "FLOPS",
    "FORMAT_VERSION",
    "INSPECTION",
    "KEY_FILE",
    "CacheInfo",
    "CacheKey",
    "CacheWriteWarning",
    "ClearResult",
    "Lookup",
    "LookupStatus",
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
