"""Every error the harness raises on purpose: one family; each message says what failed, what to do.

Callers catch `HarnessError` for all of them; the CLI turns one into one line and exit status 2.
Leaves also inherit the builtin a caller would already catch (`FileNotFoundError`, `ValueError`).
"""

from __future__ import annotations

import json
import os
import re
import unicodedata

__all__ = [
    "REDACTED",
    "CaseError",
    "CatalogError",
    "ConfigNotFoundError",
    "GapKindError",
    "GatedRepoError",
    "HarnessError",
    "InvalidConfigError",
    "ModelBuildError",
    "OfflineSnapshotMissingError",
    "OutputWriteError",
    "RemoteCodeRefusedError",
    "SchemaValidationError",
    "UnknownModelTypeError",
    "json_printable",
    "printable",
    "redact",
]

_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{10,}")
_TOKEN_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
REDACTED = "<redacted token>"


def redact(text: str) -> str:
    """`text` with Hugging Face tokens (hf_..., or the value of HF_TOKEN) replaced."""
    for name in _TOKEN_ENV:
        secret = os.environ.get(name, "").strip()
        if len(secret) >= 8:
            text = text.replace(secret, REDACTED)
    return _TOKEN.sub(REDACTED, text)


# Characters that act on a terminal or hide what a line says: controls (ESC, CR, BS, C1 ...),
# format characters (bidi overrides, zero-width joiners), line and paragraph separators, and lone
# surrogates (not text at all).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def printable(text: str) -> str:
    """`text` made safe to print: every control, format or separator character and every lone
    surrogate becomes a visible escape (`\\x1b`, `\\n`, `\\u202e`), so untrusted text can neither
    drive the terminal nor forge a line. Every printer of the harness uses it."""
    if text.isprintable():
        return text
    return "".join(_escape(char) if _unsafe(char) else char for char in text)


def json_printable(text: str) -> str:
    """JSON text made safe to print: the same characters as `printable` as JSON `\\u` escapes (the
    JSON value is unchanged; json.dumps leaves them raw with ensure_ascii=False)."""
    if text.isprintable():
        return text
    return "".join(
        json.dumps(char)[1:-1] if char != "\n" and _unsafe(char) else char for char in text
    )


class HarnessError(Exception):
    """Base of every error the harness raises on purpose; the message is one readable paragraph.

    Messages never carry a token: whatever text reaches the constructor is passed through `redact`.
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


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


class OutputWriteError(HarnessError, OSError):
    """An output file or folder cannot be written (a file in the way, no permission, disk full)."""


class RemoteCodeRefusedError(HarnessError, PermissionError):
    """The config needs Hub code (`auto_map`); the caller did not opt in with a pinned revision."""


class ModelBuildError(HarnessError, RuntimeError):
    """transformers could not build the model on the meta device from this config."""


class CatalogError(HarnessError, ValueError):
    """A layer class is unknown, or specs do not bind to its constructor."""


class GapKindError(HarnessError, ValueError):
    """A gap kind has no record in the registry, or its record file is malformed (file, field)."""


class SchemaValidationError(HarnessError, ValueError):
    """A generated or hand-written Mantile config fails the project's JSON Schema."""


class CaseError(HarnessError, ValueError):
    """A model case file is malformed: no CASE, wrong types, or an unfilled TODO claim."""
