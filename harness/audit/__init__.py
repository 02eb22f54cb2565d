"""`harness check`: audit a hand-written Mantile config against the harness's dry run."""

from .rules import (
    HANDWRITTEN_SCHEMA,
    AuditFinding,
    AuditReport,
    audit_config,
    audit_file,
    infer_model,
    load_mantile_config,
    parse_mantile_config,
)

__all__ = [
    "HANDWRITTEN_SCHEMA",
    "AuditFinding",
    "AuditReport",
    "audit_config",
    "audit_file",
    "infer_model",
    "load_mantile_config",
    "parse_mantile_config",
]
