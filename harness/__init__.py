"""Conformance harness for LLM configs: HF config -> meta-device dry run -> Mantile config, checked.

The public API keeps the seed plan's names (`get_model_config`, `inspect_model_structure`,
`save_tensor_inspection`, `count_parameters`, `estimate_memory`, `validate_config`, ...).
Heavy imports (torch, transformers) happen only when a model is built, and the API functions
(which import every pipeline step) only when first used: a case file's `from harness import
ModelCase` loads the case records alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import HarnessError
from .pipeline.cases import TODO, CheckpointClaim, Claim, Fact, ModelCase
from .pipeline.inventory import Inspection, TensorRecord, estimate_memory, validate_config
from .pipeline.resolve import ResolvedConfig, get_model_config
from .version import __version__ as __version__

__all__ = [
    "TODO",
    "CheckpointClaim",
    "Claim",
    "Fact",
    "HarnessError",
    "Inspection",
    "ModelCase",
    "ResolvedConfig",
    "TensorRecord",
    "count_parameters",
    "estimate_memory",
    "get_model_config",
    "inspect_model_structure",
    "save_tensor_inspection",
    "validate_config",
]

# Re-exported on first use (PEP 562): name -> the module that defines it.
_LAZY = {
    "count_parameters": "api",
    "inspect_model_structure": "api",
    "save_tensor_inspection": "output",
}

if TYPE_CHECKING:
    from .api import count_parameters, inspect_model_structure
    from .output import save_tensor_inspection


def __getattr__(name: str) -> Any:
    """The API functions of `__all__`, imported when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value
