"""Every error the harness raises on purpose: one family; each message says what failed, what to do.

Callers catch `HarnessError` for all of them; the CLI turns one into one line and exit status 2.
Leaves also inherit the builtin a caller would already catch (`FileNotFoundError`, `ValueError`).
"""

from __future__ import annotations

__all__ = [
    "CaseError",
    "CatalogError",
    "ConfigNotFoundError",
    "GatedRepoError",
    "HarnessError",
    "InvalidConfigError",
    "ModelBuildError",
    "OfflineSnapshotMissingError",
    "RemoteCodeRefusedError",
    "SchemaValidationError",
    "UnknownModelTypeError",
]


class HarnessError(Exception):
    """Base of every error the harness raises on purpose; the message is one readable paragraph."""


class ConfigNotFoundError(HarnessError, FileNotFoundError):
    """A model id or path resolves to no config.json (no snapshot, no cache entry, no Hub repo)."""


class GatedRepoError(ConfigNotFoundError):
    """The Hub repository exists but is gated or private and the request was not authenticated."""


class OfflineSnapshotMissingError(ConfigNotFoundError):
    """Offline mode is on and neither a vendored snapshot nor the HF cache holds the config."""


class InvalidConfigError(HarnessError, ValueError):
    """A config.json is not valid JSON or lacks a field the harness needs (file, field, fix)."""


class UnknownModelTypeError(InvalidConfigError):
    """The config's `model_type` is not registered in the installed transformers."""


class RemoteCodeRefusedError(HarnessError, PermissionError):
    """The config needs Hub code (`auto_map`); the caller did not opt in with a pinned revision."""


class ModelBuildError(HarnessError, RuntimeError):
    """transformers could not build the model on the meta device from this config."""


class CatalogError(HarnessError, ValueError):
    """A layer class is unknown, or specs do not bind to its constructor."""


class SchemaValidationError(HarnessError, ValueError):
    """A generated or hand-written Mantile config fails the project's JSON Schema."""


class CaseError(HarnessError, ValueError):
    """A model case file is malformed: no CASE, wrong types, or an unfilled TODO claim."""
