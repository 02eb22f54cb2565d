"""Conformance harness for LLM configs: HF config -> meta-device dry run -> Mantile config, checked.

The public API keeps the seed plan's names (`get_model_config`, `inspect_model_structure`,
`save_tensor_inspection`, `count_parameters`, `estimate_memory`, `validate_config`, ...).
Heavy imports (torch, transformers) happen only when a model is built.
"""

from __future__ import annotations

from .api import count_parameters, inspect_model_structure
from .errors import HarnessError
from .output import save_tensor_inspection
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
