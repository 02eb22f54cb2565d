"""Audit a hand-written Mantile config: compare it with the harness's own dry run of its model.

`audit_config` takes the config dict and a `BuildResult` and returns `AuditFinding`s; it does no
I/O. `load_mantile_config`, `infer_model` and `audit_file` are the edges (file, snapshots, build).

What is checked, in this order (reference/mantile.md sections 3, 4 and 6):

* schema: only what Mantile's loader reads (`layer_types` with `name`, `class`, `specs`; optional
  `count`, `supported`, `total_params`, `name`), entry names unique within `layer_types` (the loader
  rejects the file otherwise) and over both lists. The harness's own extra fields are not
  required, so Mantile's shipped configs and the goldens are both checkable.
* classes: a `layer_types` class the loader cannot resolve crashes it whatever `supported` says:
  an error. A component the estimator cannot compute belongs in `unsupported_layer_types` (the
  harness's list, which Mantile never reads; it keeps the accounting closed) or, where one is
  exact, in `layer_types` as a declared stand-in (`stand_in_for`). `supported: false` on a class
  that exists is a warning: Mantile never reads the flag and computes the entry anyway.
* specs: bound to the constructor the way the loader does it: missing required keys and `dtype` /
  `parallelism` inside specs are errors (TypeError in Mantile); other keys are dropped silently,
  a warning, or an error when the dropped value changes the layer (`has_bias: true` on GQA ...).
* parameters, per entry: its `parameter_count` and its class formula against the dry run's
  matching component (matched by role: embedding, attention full / sliding, MLP, MoE, norm, LM
  head, mixers); per role: counts (norms against 2 per layer + final), missing components; totals:
  `total_params`, the layer sum, and what Mantile's classes compute, against the dry-run total.
* misreadings the dry run proves: per-head sink logits read as `num_sinks` tokens, a
  GroupedQueryAttentionLayer whose heads x head_dim differs from hidden_size (O modelled H x H),
  a sliding window in the model that the config's class ignores (or one it invents).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api import build_model_config
from ..catalog import (
    CATALOG,
    AttentionLayer,
    GroupedQueryAttentionLayer,
    Layer,
    LayerClassInfo,
    MLPLayer,
    SlidingWindowAttentionLayer,
    get_supported_layers,
    instantiate,
    spec_parameters,
)
from ..catalog.loader import duplicate_names
from ..errors import CatalogError, ConfigNotFoundError, InvalidConfigError
from ..files import NotARegularFileError, read_regular_file
from ..limits import MAX_LAYERS
from ..pipeline.config import BuildResult
from ..pipeline.mapping import GAP_CLASSES, MODEL_LEVEL
from ..pipeline.resolve import (
    MAX_CONFIG_BYTES,
    find_snapshots_dir,
    is_hf_id,
    model_slug,
    parse_config_text,
)
from ..pipeline.structure import Component, Structure

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

ERROR = "error"
WARNING = "warning"
CONFIG = "<config>"
# Reference workload for FLOP and KV figures in messages: one sequence, bf16.
REFERENCE_PREFILL_TOKENS = 1024
REFERENCE_DTYPE = "bf16"
_RESERVED_SPEC_KEYS = ("dtype", "parallelism")
_METADATA_SPEC_KEYS = ("parameter_count",)

HANDWRITTEN_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Mantile model config, as Mantile's loader reads it (reference/mantile.md section 4)",
    "type": "object",
    "required": ["layer_types"],
    "properties": {
        "layer_types": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layer_type"}},
        "unsupported_layer_types": {"type": "array", "items": {"$ref": "#/$defs/layer_type"}},
        "name": {"type": "string"},
        "total_params": {"type": "integer", "minimum": 0},
    },
    "$defs": {
        "layer_type": {
            "type": "object",
            "required": ["name", "class", "specs"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "class": {"type": "string", "minLength": 1},
                "count": {"type": "integer", "minimum": 1},
                "specs": {
                    "type": "object",
                    "properties": {"parameter_count": {"type": "integer", "minimum": 0}},
                },
                "supported": {"type": "boolean"},
                "gap_report": {"type": ["string", "null"]},
                "layer_indices": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": MODEL_LEVEL},
                },
                "stand_in_for": {"type": "string"},
            },
        }
    },
}

_COMPONENT_ROLES = {
    "embedding": "embedding",
    "position_embedding": "position_embedding",
    "lm_head": "lm_head",
    "attention": "attention",
    "mlp": "mlp",
    "moe": "moe",
    "norm": "norm",
    "mamba_mixer": "mamba_mixer",
    "gated_delta_net": "gated_delta_net",
    "unknown": "other",
}
# (role, add-on): an add-on is a part the harness splits off a component (sinks, biases ...).
_GAP_KIND_ROLES: dict[str, tuple[str, bool]] = {
    "multi_head_latent_attention": ("attention", False),
    "nonstandard_attention": ("attention", False),
    "gated_attention": ("attention", True),
    "attention_sinks": ("attention", True),
    "attention_bias": ("attention", True),
    "qk_norm": ("attention", True),
    "mlp_bias": ("mlp", True),
    "moe_bias": ("moe", True),
    "shared_expert_gate": ("moe", True),
    "mamba_mixer": ("mamba_mixer", False),
    "gated_delta_net": ("gated_delta_net", False),
    "lm_head": ("lm_head", False),
}
_CLASS_ROLES: dict[str, tuple[str, bool]] = {
    **{GAP_CLASSES[kind]: role for kind, role in _GAP_KIND_ROLES.items()},
    "EmbeddingLayer": ("embedding", False),
    "AttentionLayer": ("attention", False),
    "GroupedQueryAttentionLayer": ("attention", False),
    "SlidingWindowAttentionLayer": ("attention", False),
    "MLPLayer": ("mlp", False),
    "GatedMLPLayer": ("mlp", False),
    "MoELayer": ("moe", False),
    "NormLayer": ("norm", False),
}
_NAME_ROLES: tuple[tuple[tuple[str, ...], tuple[str, bool]], ...] = (
    (("sink",), ("attention", True)),
    (("qk_norm", "q_norm", "k_norm"), ("attention", True)),
    (("lm_head", "unembed"), ("lm_head", False)),
    (("pos_embed", "position_embed", "position"), ("position_embedding", False)),
    (("embed",), ("embedding", False)),
    (("router", "expert", "moe"), ("moe", False)),
    (("mamba", "ssm"), ("mamba_mixer", False)),
    (("delta", "linear_attn"), ("gated_delta_net", False)),
    (("attn", "attention"), ("attention", False)),
    (("mlp", "ffn", "feedforward", "feed_forward"), ("mlp", False)),
    (("norm",), ("norm", False)),
    (("head", "output"), ("lm_head", False)),
)
_ADDON_WORD = re.compile(r"(^|_)(bias|gate|tensors)($|_)")
_NOUNS = {
    "attention": "attention layer",
    "mlp": "MLP layer",
    "moe": "MoE layer",
    "norm": "norm",
    "embedding": "embedding",
    "position_embedding": "position embedding",
    "lm_head": "LM head",
    "mamba_mixer": "Mamba mixer",
    "gated_delta_net": "gated delta-net mixer",
    "other": "component",
}
# A dropped spec changes the layer when its value differs from what the class implies.
_IMPLIED: dict[str, dict[str, object]] = {
    "AttentionLayer": {"has_bias": False, "sliding_window": None, "num_sinks": 0},
    "GroupedQueryAttentionLayer": {"has_bias": False, "sliding_window": None, "num_sinks": 0},
    "GatedMLPLayer": {"has_bias": False, "num_projections": 3},
    "MLPLayer": {"has_bias": False},
    "EmbeddingLayer": {"has_bias": False},
    "NormLayer": {},
    "MoELayer": {},
    "SlidingWindowAttentionLayer": {},
}


@dataclass(frozen=True)
class AuditFinding:
    """One defect of a config: severity, code, the entry (or field) it concerns, a message."""

    severity: str  # "error" or "warning"
    code: str
    entry: str
    message: str
    expected: int | None = None
    found: int | None = None

    @property
    def difference(self) -> int | None:
        """found - expected, when both are numbers."""
        if self.expected is None or self.found is None:
            return None
        return self.found - self.expected

    @property
    def percent(self) -> float | None:
        """difference / expected as a fraction (-0.0149 for -1.49%), when expected is non-zero."""
        difference = self.difference
        if difference is None or not self.expected:
            return None
        return difference / self.expected

    def line(self, code_width: int = 0) -> str:
        """One output line: severity, code, entry, message."""
        return f"{self.severity:<7} {self.code:<{code_width}}  {self.entry}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record, with difference and percent."""
        return {
            "severity": self.severity,
            "code": self.code,
            "entry": self.entry,
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
            "difference": self.difference,
            "percent": self.percent,
        }


@dataclass(frozen=True)
class AuditReport:
    """The findings of one config against the dry run of one model."""

    path: str
    model: str
    model_total: int
    findings: tuple[AuditFinding, ...]

    @property
    def errors(self) -> int:
        """Number of error findings."""
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        """Number of warning findings."""
        return sum(f.severity == WARNING for f in self.findings)

    @property
    def exit_status(self) -> int:
        """1 when any finding is an error, else 0."""
        return 1 if self.errors else 0

    def summary(self) -> str:
        """One line: the file, the model, how many errors and warnings."""
        return (
            f"{self.path}: {_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')} "
            f"against the dry run of {self.model} ({self.model_total:,} parameters)"
        )

    def lines(self) -> list[str]:
        """One line per finding, then the summary."""
        width = max((len(f.code) for f in self.findings), default=0)
        return [f.line(width) for f in self.findings] + [self.summary()]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "config": self.path,
            "model": self.model,
            "model_total_params": self.model_total,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.as_dict() for f in self.findings],
        }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _percent(fraction: float) -> str:
    if fraction and abs(fraction) < 1e-5:
        return f"{fraction * 100:+.1e}%"
    return f"{fraction:+.3%}"


def _numbers(expected: int, found: int) -> str:
    """`expected E, found F, difference D (P%)` with thousands separators."""
    difference = found - expected
    percent = f" ({_percent(difference / expected)})" if expected else ""
    return f"expected {expected:,}, found {found:,}, difference {difference:+,}{percent}"


def _finding(
    severity: str,
    code: str,
    entry: str,
    message: str,
    expected: int | None = None,
    found: int | None = None,
) -> AuditFinding:
    return AuditFinding(severity, code, entry, message, expected, found)


# --------------------------------------------------------------------------- loading

MAX_ENTRIES = 16 * MAX_LAYERS  # bounds the time `check` spends on a hostile file


def parse_mantile_config(text: str, where: str) -> dict[str, Any]:
    """Parse config text; InvalidConfigError (with line and column) unless it is an object with
    a `layer_types` list."""
    parsed = parse_config_text(
        text.encode("utf-8", "surrogatepass"),
        where,
        fix="fix the file (a Mantile config is one JSON object with a layer_types list)",
        sizes_only=True,
    )
    if not isinstance(parsed, dict):
        raise InvalidConfigError(
            f"{where} holds a JSON {type(parsed).__name__}, not an object; a Mantile config is "
            "one JSON object with a layer_types list"
        )
    if "layer_types" not in parsed:
        raise InvalidConfigError(
            f'{where} has no "layer_types" field, the one field Mantile\'s loader requires '
            '(KeyError, HTTP 500); add "layer_types": [{"name": ..., "class": ..., '
            '"count": ..., "specs": {...}}, ...]'
        )
    if not isinstance(parsed["layer_types"], list):
        raise InvalidConfigError(
            f'{where}: "layer_types" is a JSON {type(parsed["layer_types"]).__name__}, not a '
            "list; make it a list of layer entries"
        )
    if len(parsed["layer_types"]) > MAX_ENTRIES:
        raise InvalidConfigError(
            f'{where}: "layer_types" has {len(parsed["layer_types"]):,} entries, more than '
            f"{MAX_ENTRIES:,} (one per layer type, or per layer of a {MAX_LAYERS:,}-layer model "
            "with 16 per layer); this is not a model config: pass the config file itself"
        )
    return parsed


def load_mantile_config(path: str | Path) -> dict[str, Any]:
    """Read a Mantile config file; ConfigNotFoundError or InvalidConfigError naming the file."""
    file = Path(path)
    try:
        data = read_regular_file(file, MAX_CONFIG_BYTES)
    except NotARegularFileError as exc:
        raise InvalidConfigError(
            f"{file} {exc.strerror}; pass the Mantile config JSON file itself"
        ) from None
    except OSError as exc:
        raise ConfigNotFoundError(
            f"cannot read Mantile config {file}: {exc.strerror or exc}; check the path"
        ) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InvalidConfigError(
            f"{file} is larger than {MAX_CONFIG_BYTES // 2**20} MiB; a Mantile config is a few KB "
            "of layer entries, so this is not one: pass the config file itself"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidConfigError(
            f"{file} is not UTF-8 text (byte {exc.start}); a Mantile config is JSON text"
        ) from None
    return parse_mantile_config(text, str(file))


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _vendored_ids(snapshots_dir: Path | None) -> list[str]:
    if snapshots_dir is None or not snapshots_dir.is_dir():
        return []
    return sorted(
        f"{config.parent.parent.name}/{config.parent.name}"
        for config in snapshots_dir.glob("*/*/config.json")
    )


def infer_model(
    config: Mapping[str, Any], path: str | Path, snapshots_dir: Path | None = None
) -> str:
    """The model a config describes: `hf_model_id`, else its model_id, file stem or name matched
    against the vendored snapshots (`org_name`, case and punctuation ignored)."""
    hf_id = config.get("hf_model_id")
    if isinstance(hf_id, str) and is_hf_id(hf_id):
        return hf_id
    model_id = config.get("model_id")
    if isinstance(model_id, str) and is_hf_id(model_id):
        return model_id
    snapshots = snapshots_dir if snapshots_dir is not None else find_snapshots_dir()
    known = _vendored_ids(snapshots)
    keys = {hf: {_normalise(model_slug(hf)), _normalise(hf.split("/", 1)[1])} for hf in known}
    tried = []
    for label, value in (
        ("model_id", model_id),
        ("file name", Path(path).stem),
        ("name", config.get("name")),
    ):
        if not isinstance(value, str) or not _normalise(value):
            continue
        tried.append(f"{label} {value!r}")
        matches = [hf for hf, names in keys.items() if _normalise(value) in names]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidConfigError(
                f"{path}: its {label} {value!r} matches several vendored models "
                f"({', '.join(matches)}); pass the one you mean with --model HF_ID"
            )
    where = snapshots if snapshots is not None else "cases/configs (not found)"
    raise InvalidConfigError(
        f'{path}: cannot tell which model this config describes: it has no "hf_model_id" '
        f"(org/name), and {', '.join(tried) or 'no model_id or name'} match none of the "
        f"{len(known)} vendored models in {where}; pass the model with --model HF_ID (e.g. "
        f"`harness check {path} --model meta-llama/Llama-3.3-70B-Instruct`) or add "
        '"hf_model_id": "org/name" to the config'
    )


def audit_file(
    path: str | Path,
    model: str | None = None,
    *,
    offline: bool | None = None,
    token: str | None = None,
    layers_dir: str | Path | None = None,
    native_class: bool = False,
) -> AuditReport:
    """Load a config, dry-run its model (given or inferred) and audit the one against the other
    (`native_class`: the model was built natively behind its auto_map, see `harness build`)."""
    config = load_mantile_config(path)
    chosen = model or infer_model(config, path)
    layers = get_supported_layers(layers_dir) if layers_dir is not None else None
    dry_run = build_model_config(chosen, offline=offline, token=token, native_class=native_class)
    findings = audit_config(config, dry_run, layers)
    return AuditReport(str(path), chosen, int(dry_run.config["total_params"]), tuple(findings))


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class _Entry:
    """One layer_types entry, read the way Mantile's loader reads it."""

    name: str
    class_name: str
    count: int
    specs: dict[str, Any]
    supported: bool | None
    known: bool
    role: str
    addon: bool
    variant: str
    declared: int | None
    layer: Layer | None
    layer_indices: tuple[int, ...] = ()
    gap_report: str | None = None
    loaded: bool = True  # in layer_types (Mantile loads it), not unsupported_layer_types
    stand_in_for: str | None = None

    @property
    def modelled(self) -> int | None:
        """Parameters per instance from the class formula on the loader-filtered specs."""
        return self.layer.parameter_count() if self.layer is not None else None

    @property
    def per_instance(self) -> int | None:
        """What this entry stands for: the class formula, else the declared count."""
        return self.modelled if self.modelled is not None else self.declared


@dataclass(frozen=True)
class _Group:
    """Dry run: the instances of one role and variant (e.g. the 18 sliding-attention layers)."""

    role: str
    variant: str
    sizes: tuple[int, ...]
    layers: frozenset[int]
    windows: frozenset[int | None] = frozenset()
    sinks: tuple[int, ...] = ()
    core: tuple[_Entry, ...] = ()

    @property
    def count(self) -> int:
        """Number of instances."""
        return len(self.sizes)

    @property
    def size(self) -> int | None:
        """Parameters per instance when every instance has the same, else None."""
        return self.sizes[0] if self.sizes and len(set(self.sizes)) == 1 else None

    @property
    def core_size(self) -> int | None:
        """Per-instance parameters of the dry run's class-exact entry, when there is one size."""
        sizes = {entry.per_instance for entry in self.core}
        return sizes.pop() if len(sizes) == 1 and None not in sizes else None

    @property
    def label(self) -> str:
        """`sliding-attention layers`, `norms` ... for messages."""
        noun = _NOUNS.get(self.role, self.role)
        prefix = f"{self.variant}-" if self.variant and "+" not in self.variant else ""
        return f"{prefix}{noun}s"


def _role(name: str, class_name: str, stand_in_for: str | None = None) -> tuple[str, bool]:
    if stand_in_for in _GAP_KIND_ROLES:
        return _GAP_KIND_ROLES[stand_in_for]
    lowered = name.lower()
    base = _CLASS_ROLES.get(class_name)
    if base is not None and class_name != GAP_CLASSES["unknown"]:
        role, addon = base
        if class_name == "EmbeddingLayer" and "pos" in lowered:
            return "position_embedding", False
        if class_name == "NormLayer" and re.search(r"(^|_)(qk|q|k)_?norm", lowered):
            return "attention", True
        if class_name in {"MLPLayer", "GatedMLPLayer"} and lowered.startswith("shared_expert"):
            return "moe", True
        if not addon and role in {"attention", "mlp", "moe"} and _ADDON_WORD.search(lowered):
            return role, class_name not in CATALOG
        return role, addon
    for words, (role, addon) in _NAME_ROLES:
        if any(word in lowered for word in words):
            if role in {"attention", "mlp", "moe"} and _ADDON_WORD.search(lowered):
                return role, True
            return role, addon
    return "other", False


def _component_variant(component: Component) -> str:
    if component.attrs.get("sliding_window") is not None:
        return "sliding"
    if component.attrs.get("chunked"):
        return "chunked"
    return "full"


def _variant(
    role: str,
    class_name: str,
    name: str,
    specs: Mapping[str, Any],
    indices: Sequence[int],
    layer_variants: Mapping[int, str],
) -> str:
    if role != "attention":
        return ""
    if indices and all(index in layer_variants for index in indices):
        variants = {layer_variants[index] for index in indices}
        return variants.pop() if len(variants) == 1 else "*"
    if class_name == "SlidingWindowAttentionLayer":
        return "sliding" if specs.get("sliding_window") is not None else "full"
    if class_name in {"AttentionLayer", "GroupedQueryAttentionLayer"}:
        return "full"
    lowered = name.lower()
    if any(word in lowered for word in ("sliding", "swa", "local")):
        return "sliding"
    if any(word in lowered for word in ("full", "global")):
        return "full"
    return "*"


@dataclass(frozen=True)
class _ClassView:
    """What the loader knows about one class: its spec keys, and the harness formula if any."""

    required: tuple[str, ...]
    optional: tuple[str, ...]
    formula: bool


def _class_view(class_name: str, layers: Mapping[str, LayerClassInfo] | None) -> _ClassView | None:
    if layers is None:
        cls = CATALOG.get(class_name)
        if cls is None:
            return None
        required, optional = spec_parameters(cls)
        return _ClassView(required, tuple(optional), True)
    info = layers.get(class_name)
    if info is None or info.abstract:
        return None
    return _ClassView(info.spec_required, tuple(info.spec_optional), class_name in CATALOG)


def _known_classes(layers: Mapping[str, LayerClassInfo] | None) -> list[str]:
    if layers is None:
        return sorted(CATALOG)
    return sorted(name for name, info in layers.items() if not info.abstract)


def _dropped_severity(class_name: str, key: str, value: object, specs: Mapping[str, Any]) -> str:
    implied = _IMPLIED.get(class_name, {})
    if class_name == "AttentionLayer" and key == "num_kv_heads":
        return WARNING if value == specs.get("num_heads") else ERROR
    if key in implied:
        return WARNING if value == implied[key] else ERROR
    if key == "num_shared_experts":
        return WARNING if not value else ERROR
    return WARNING


def _dropped_effect(class_name: str, key: str, value: object, specs: Mapping[str, Any]) -> str:
    if key == "has_bias" and class_name in {"AttentionLayer", "GroupedQueryAttentionLayer"}:
        try:
            heads = int(specs["num_heads"])
            kv_heads = int(specs.get("num_kv_heads", heads))
            head_dim, hidden = int(specs["head_dim"]), int(specs["hidden_size"])
        except (KeyError, TypeError, ValueError):
            return f"{class_name} has no biases, so the model's projection biases are not counted"
        biases = heads * head_dim + 2 * kv_heads * head_dim + hidden
        return (
            f"{class_name} has no biases, so the q/k/v/o biases this asks for (d_q + 2·d_kv + H "
            f"= {biases:,} per layer) are not counted; SlidingWindowAttentionLayer "
            f"(sliding_window: null, has_bias: true) counts them"
        )
    if key == "sliding_window":
        return f"{class_name} attends the whole context; use SlidingWindowAttentionLayer"
    if key == "num_sinks":
        return f"{class_name} has no sinks"
    if key == "num_projections":
        return f"{class_name} always uses {_IMPLIED.get(class_name, {}).get(key, 2)} projections"
    if key == "num_kv_heads":
        heads = specs.get("num_heads")
        return f"{class_name} is multi-head attention: K and V use num_heads={heads}"
    if key == "num_shared_experts":
        return f"{class_name} has no shared experts"
    return "the class does not take it"


def _bind(
    raw: Mapping[str, Any],
    view: _ClassView,
    findings: list[AuditFinding],
) -> Layer | None:
    """Filter specs as Mantile's loader does, report drops and gaps, build the catalog layer."""
    name, class_name, specs = raw["name"], raw["class"], raw["specs"]
    reserved = [key for key in _RESERVED_SPEC_KEYS if key in specs]
    if reserved:
        findings.append(
            _finding(
                ERROR,
                "reserved-spec",
                name,
                f"specs contain {', '.join(map(repr, reserved))}, which Mantile's loader passes "
                f"itself: the constructor call fails (TypeError: multiple values for keyword); "
                f"remove them from specs (dtype and parallelism are chosen per request)",
            )
        )
    accepted = set(view.required) | set(view.optional)
    dropped = [
        key
        for key in specs
        if key not in accepted and key not in _METADATA_SPEC_KEYS and key not in reserved
    ]
    for severity in (ERROR, WARNING):
        keys = [k for k in dropped if _dropped_severity(class_name, k, specs[k], specs) == severity]
        if not keys:
            continue
        if severity == ERROR:
            for key in keys:
                findings.append(
                    _finding(
                        ERROR,
                        "dropped-spec",
                        name,
                        f"{key}={json.dumps(specs[key])} is silently dropped by Mantile's loader "
                        f"({class_name} has no such parameter): "
                        f"{_dropped_effect(class_name, key, specs[key], specs)}",
                    )
                )
        else:
            listed = ", ".join(f"{key}={json.dumps(specs[key])}" for key in keys)
            findings.append(
                _finding(
                    WARNING,
                    "ignored-spec",
                    name,
                    f"{listed} {'is' if len(keys) == 1 else 'are'} ignored: {class_name} takes "
                    f"no such spec, so Mantile's loader drops {'it' if len(keys) == 1 else 'them'} "
                    f"silently{_did_you_mean(keys, accepted - set(specs))}",
                )
            )
    missing = [key for key in view.required if key not in specs]
    if missing:
        findings.append(
            _finding(
                ERROR,
                "missing-spec",
                name,
                f"required spec(s) {', '.join(map(repr, missing))} of {class_name} missing: "
                f"Mantile's constructor call fails (TypeError, HTTP 500); required: "
                f"{', '.join(view.required)}",
            )
        )
    if missing or reserved or not view.formula:
        return None
    cls = CATALOG[class_name]
    required, optional = spec_parameters(cls)
    catalog_keys = set(required) | set(optional)
    try:
        return instantiate(class_name, {k: v for k, v in specs.items() if k in catalog_keys})
    except CatalogError as exc:
        findings.append(_finding(ERROR, "invalid-spec", name, f"{exc}"))
        return None


def _did_you_mean(keys: Iterable[str], unused: Iterable[str]) -> str:
    hints = []
    choices = sorted(unused)
    for key in keys:
        close = difflib.get_close_matches(key, choices, n=1)
        if close:
            hints.append(f"{key!r} -> {close[0]!r}")
    return f" (did you mean {', '.join(hints)}?)" if hints else ""


def _read_entries(
    raw_entries: Sequence[Any],
    skip: set[int],
    layers: Mapping[str, LayerClassInfo] | None,
    layer_variants: Mapping[int, str],
    findings: list[AuditFinding],
    *,
    loaded: bool = True,
) -> list[_Entry]:
    """Read entries as the loader does (`loaded`: layer_types) or as declared gaps (the rest)."""
    entries = []
    for index, raw in enumerate(raw_entries):
        if index in skip:
            continue
        name, class_name, specs = raw["name"], raw["class"], raw["specs"]
        supported = raw.get("supported") if isinstance(raw.get("supported"), bool) else None
        view = _class_view(class_name, layers) if loaded else None
        layer = None
        if view is not None:
            layer = _bind(raw, view, findings)
        elif loaded:
            findings.append(_unknown_class(name, class_name, layers))
        stand_in = raw.get("stand_in_for") if isinstance(raw.get("stand_in_for"), str) else None
        role, addon = _role(name, class_name, stand_in)
        listed = raw.get("layer_indices")
        valid = isinstance(listed, list) and all(
            isinstance(i, int) and not isinstance(i, bool) and i >= MODEL_LEVEL for i in listed
        )
        # one index per instance, MODEL_LEVEL for an instance outside the layers: keep the layers
        indices = tuple(sorted({i for i in listed if i != MODEL_LEVEL})) if valid else ()
        declared = specs.get("parameter_count")
        entry = _Entry(
            name=name,
            class_name=class_name,
            count=int(raw.get("count", 1)),
            specs=dict(specs),
            supported=supported,
            known=view is not None,
            role=role,
            addon=addon,
            variant=_variant(role, class_name, name, specs, indices, layer_variants),
            declared=declared,
            layer=layer,
            layer_indices=indices,
            gap_report=raw["gap_report"] if isinstance(raw.get("gap_report"), str) else None,
            loaded=loaded,
            stand_in_for=stand_in,
        )
        if view is not None and supported is False:
            per = f" ({entry.modelled:,} parameters per instance)" if layer is not None else ""
            findings.append(
                _finding(
                    WARNING,
                    "supported-ignored",
                    name,
                    f"supported: false has no effect: Mantile never reads the flag and computes "
                    f"this entry with {class_name} anyway{per}",
                )
            )
        entries.append(entry)
    return entries


def _unknown_class(
    name: str, class_name: str, layers: Mapping[str, LayerClassInfo] | None
) -> AuditFinding:
    known = _known_classes(layers)
    close = difflib.get_close_matches(class_name, known, n=1, cutoff=0.8)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return _finding(
        ERROR,
        "unknown-class",
        name,
        f"class {class_name!r} is not a Mantile layer class{hint}: Mantile's loader resolves it "
        f"to None and /api/layers and the metrics endpoints fail (AttributeError, HTTP 500), "
        f"whatever `supported` says. Use one of {', '.join(known)}; if none computes this "
        f"component, move the entry to unsupported_layer_types (the list Mantile never reads, "
        f"which keeps the parameter accounting closed), or declare an exact stand-in "
        f"(`stand_in_for`) where one exists",
    )


# --------------------------------------------------------------------------- dry run


@dataclass(frozen=True)
class _DryRun:
    groups: dict[tuple[str, str], _Group]
    addons: tuple[_Entry, ...]
    total: int
    structure: Structure
    layer_variants: dict[int, str]


def _dry_run_view(dry_run: BuildResult) -> _DryRun:
    structure = dry_run.structure
    layer_variants = {
        c.layer_index: _component_variant(c)
        for c in structure.of_kind("attention")
        if c.layer_index is not None
    }
    sizes: dict[tuple[str, str], list[int]] = {}
    layers: dict[tuple[str, str], set[int]] = {}
    windows: dict[tuple[str, str], set[int | None]] = {}
    sinks: dict[tuple[str, str], list[int]] = {}
    for component in structure.components:
        role = _COMPONENT_ROLES.get(component.kind)
        if role is None:
            continue
        variant = _component_variant(component) if role == "attention" else ""
        key = (role, variant)
        sizes.setdefault(key, []).append(component.parameter_count)
        if component.layer_index is not None:
            layers.setdefault(key, set()).add(component.layer_index)
        if role == "attention":
            windows.setdefault(key, set()).add(component.attrs.get("sliding_window"))
            sinks.setdefault(key, []).append(int(component.attrs.get("sink_params") or 0))
    loaded = [entry.as_json() for entry in dry_run.entries if entry.supported]
    declared = [entry.as_json() for entry in dry_run.entries if not entry.supported]
    entries = _read_entries(loaded, set(), None, layer_variants, []) + _read_entries(
        declared, set(), None, layer_variants, [], loaded=False
    )
    groups = {
        key: _Group(
            role=key[0],
            variant=key[1],
            sizes=tuple(values),
            layers=frozenset(layers.get(key, ())),
            windows=frozenset(windows.get(key, ())),
            sinks=tuple(sinks.get(key, ())),
            core=tuple(e for e in entries if not e.addon and (e.role, e.variant) == key),
        )
        for key, values in sizes.items()
    }
    addons = tuple(e for e in entries if e.addon)
    return _DryRun(groups, addons, int(dry_run.config["total_params"]), structure, layer_variants)


def _merge(groups: Sequence[_Group]) -> _Group:
    if len(groups) == 1:
        return groups[0]
    return _Group(
        role=groups[0].role,
        variant="+".join(g.variant for g in groups),
        sizes=tuple(size for g in groups for size in g.sizes),
        layers=frozenset().union(*(g.layers for g in groups)),
        windows=frozenset().union(*(g.windows for g in groups)),
        sinks=tuple(s for g in groups for s in g.sinks),
        core=tuple(e for g in groups for e in g.core),
    )


# --------------------------------------------------------------------------- checks


# Entry fields Mantile's loader never reads: a malformed value is noted, the entry still audited.
_IGNORED_BY_LOADER = frozenset({"supported", "gap_report", "layer_indices"})


_LISTS = ("layer_types", "unsupported_layer_types")


def _schema_findings(
    config: Mapping[str, Any],
) -> tuple[list[AuditFinding], dict[str, set[int]]]:
    """Schema problems, and per entry list the indices of entries too malformed to audit."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(HANDWRITTEN_SCHEMA)
    findings = []
    bad_entries: dict[str, set[int]] = {key: set() for key in _LISTS}
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.path))):
        path = list(error.absolute_path)
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        entry = CONFIG
        listed = len(path) >= 2 and path[0] in _LISTS and isinstance(path[1], int)
        ignored = listed and len(path) >= 3 and path[2] in _IGNORED_BY_LOADER
        if listed:
            if not ignored:
                bad_entries[path[0]].add(path[1])
            raw_entries = config.get(path[0])
            raw = raw_entries[path[1]] if isinstance(raw_entries, list) else None
            named = raw.get("name") if isinstance(raw, dict) else None
            entry = named if isinstance(named, str) and named else f"{path[0]}[{path[1]}]"
        elif path:
            entry = str(path[0])
        if ignored:
            findings.append(
                _finding(
                    WARNING,
                    "schema",
                    entry,
                    f"{where}: {error.message}; Mantile's loader never reads {path[2]}, so the "
                    "value is ignored here too (the entry is still checked)",
                )
            )
            continue
        findings.append(
            _finding(
                ERROR,
                "schema",
                entry,
                f"{where or '<root>'}: {error.message} (Mantile's loader needs this field "
                f"in this form; see its config schema)",
            )
        )
    findings += [
        _finding(ERROR, "duplicate-name", problem.entry, f"{problem.problem}: {problem.effect}")
        for problem in duplicate_names(config)
    ]
    return findings, bad_entries


def _heads(layer: Layer) -> tuple[int, int, int]:
    heads = int(getattr(layer, "num_query_heads", None) or getattr(layer, "num_heads", 0))
    kv_heads = int(getattr(layer, "num_kv_heads", heads))
    return heads, kv_heads, int(getattr(layer, "head_dim", 0))


def _swa(layer: Layer, window: int | None) -> SlidingWindowAttentionLayer:
    heads, kv_heads, head_dim = _heads(layer)
    hidden = int(getattr(layer, "hidden_size", 0))
    return SlidingWindowAttentionLayer(
        0, hidden, heads, kv_heads, head_dim, REFERENCE_DTYPE, sliding_window=window
    )


def _check_width(entry: _Entry) -> list[AuditFinding]:
    """GQA/MHA whose heads x head_dim differs from hidden_size: Mantile sizes O (MHA: all) by H."""
    layer = entry.layer
    if not isinstance(layer, (GroupedQueryAttentionLayer, AttentionLayer)):
        return []
    hidden, d_q, d_kv = layer.hidden_size, layer.q_width, layer.kv_width
    heads, _, head_dim = _heads(layer)
    if d_q == hidden:
        return []
    if isinstance(layer, AttentionLayer):
        expected, found = 4 * hidden * d_q, 4 * hidden * hidden
        return [
            _finding(
                ERROR,
                "mha-width",
                entry.name,
                f"num_heads {heads} × head_dim {head_dim} = {d_q:,} ≠ hidden_size {hidden:,}, "
                f"but AttentionLayer sizes all four projections hidden_size × hidden_size: "
                f"parameters per layer {_numbers(expected, found)}; × {entry.count} = "
                f"{(found - expected) * entry.count:+,}. Use SlidingWindowAttentionLayer with "
                f"sliding_window: null",
                expected,
                found,
            )
        ]
    expected, found = d_q * hidden, hidden * hidden
    exact = _swa(layer, None)
    tokens = REFERENCE_PREFILL_TOKENS
    per_token_exact = 2 * hidden * (d_q + 2 * d_kv) + 2 * d_q * hidden
    per_token_mantile = 2 * hidden * (hidden + 2 * d_kv) + 2 * hidden * hidden
    prefill_exact = exact.flops(1, tokens)
    prefill_mantile = prefill_exact - tokens * (per_token_exact - per_token_mantile)
    return [
        _finding(
            ERROR,
            "gqa-output-width",
            entry.name,
            f"num_heads {heads} × head_dim {head_dim} = {d_q:,} ≠ hidden_size {hidden:,}, but "
            f"GroupedQueryAttentionLayer models the O projection as hidden_size × hidden_size: "
            f"O parameters per layer {_numbers(expected, found)}; × {entry.count} layers = "
            f"{(found - expected) * entry.count:+,}. It also computes the Q and O projection "
            f"FLOPs with {hidden:,} instead of {d_q:,}: {per_token_mantile:,} instead of "
            f"{per_token_exact:,} projection FLOPs per token per layer; a {tokens:,}-token "
            f"prefill gives {prefill_mantile:,} instead of {prefill_exact:,} FLOPs per layer "
            f"({prefill_mantile / prefill_exact:.3f}×). Use SlidingWindowAttentionLayer with "
            f"sliding_window: null, which sizes Q and O by num_query_heads × head_dim",
            expected,
            found,
        )
    ]


def _kv(layer: Layer, window: int | None, context: int) -> int:
    return round(_swa(layer, window).kv_cache_bytes(1, context))


def _check_window(entry: _Entry, group: _Group, structure: Structure) -> list[AuditFinding]:
    """The config's sliding window against the model's, with KV bytes at the model's context."""
    layer = entry.layer
    if layer is None or entry.role != "attention" or len(group.windows) != 1:
        return []
    model_window = next(iter(group.windows))
    config_window = getattr(layer, "sliding_window", None)
    if config_window == model_window:
        return []
    context = int(
        structure.arch.get("max_position_embeddings")
        or 8 * max(w for w in (model_window, config_window) if w is not None)
    )
    expected = _kv(layer, model_window, context)
    found = _kv(layer, config_window, context)
    ratio = found / expected
    kv = (
        f"at the model's {context:,}-token context, KV-cache bytes per sequence per layer "
        f"({REFERENCE_DTYPE}): {_numbers(expected, found)} (×{ratio:.2f}), and decode "
        f"attention-score FLOPs are ×{ratio:.2f} too; parameters are unaffected"
    )
    if config_window is None:
        return [
            _finding(
                ERROR,
                "sliding-window-ignored",
                entry.name,
                f"the model attends only the last {model_window:,} tokens in these "
                f"{group.count} layers (HF config sliding_window={model_window}), but "
                f"{entry.class_name} attends the whole context: {kv}. Use "
                f"SlidingWindowAttentionLayer with sliding_window: {model_window}",
                expected,
                found,
            )
        ]
    what = (
        "the model attends the whole context in these layers"
        if model_window is None
        else f"the model's window in these layers is {model_window:,}"
    )
    return [
        _finding(
            ERROR,
            "sliding-window",
            entry.name,
            f"sliding_window is {config_window:,}, but {what}: {kv}. Set sliding_window to "
            f"{json.dumps(model_window)}",
            expected,
            found,
        )
    ]


def _check_sinks(entry: _Entry, group: _Group) -> list[AuditFinding]:
    """num_sinks > 0 where the model's sinks are per-head logits (gpt-oss), or has none at all."""
    layer = entry.layer
    if not isinstance(layer, SlidingWindowAttentionLayer) or layer.num_sinks == 0:
        return []
    heads, _, _ = _heads(layer)
    sinks = max(group.sinks, default=0)
    window, extra = layer.sliding_window, layer.num_sinks
    if not sinks:
        return [
            _finding(
                WARNING,
                "num-sinks",
                entry.name,
                f"num_sinks is {extra}, but the model has no attention-sink parameters; Mantile "
                f"keeps {extra} extra KV positions per sequence in each of these layers",
            )
        ]
    advice = (
        f"Set num_sinks to 0; the {sinks} sink logits per layer are parameters no class "
        f"counts (an AttentionSinksLayer entry in unsupported_layer_types, see "
        f"gaps/attention_sinks.md; never in layer_types, where Mantile has no such class)"
    )
    what = (
        f"num_sinks is {extra}, but the model's `sinks` are {sinks} learned logits per layer, "
        f"one per query head ({heads} heads), added to the softmax; they are not sink tokens"
    )
    if window is None:
        return [_finding(ERROR, "num-sinks", entry.name, f"{what}. {advice}")]
    widened = window + extra
    expected, found = _kv(layer, window, widened), _kv(layer, widened, widened)
    tokens = REFERENCE_PREFILL_TOKENS
    flops_exact = _swa(layer, window).flops(1, tokens)
    flops_mantile = _swa(layer, widened).flops(1, tokens)
    return [
        _finding(
            ERROR,
            "num-sinks",
            entry.name,
            f"{what}. Mantile keeps num_sinks extra positions, widening the window from "
            f"{window:,} to {widened:,}: KV-cache bytes per sequence per layer "
            f"({REFERENCE_DTYPE}, contexts ≥ {widened:,}): {_numbers(expected, found)}; "
            f"attention-score FLOPs are ×{widened / window:.2f}, and a {tokens:,}-token "
            f"prefill costs {flops_mantile:,} instead of {flops_exact:,} FLOPs per layer "
            f"({_percent((flops_mantile - flops_exact) / flops_exact)}). {advice}",
            expected,
            found,
        )
    ]


def _semantics(layer: Layer) -> dict[str, object]:
    values: dict[str, object] = {}
    for key, value in layer.specs().items():
        if key in {"layer_idx", "sliding_window", "num_sinks"}:
            continue
        values["num_heads" if key == "num_query_heads" else key] = value
    if isinstance(layer, AttentionLayer):
        values["num_kv_heads"] = values.get("num_heads")
    if isinstance(layer, MLPLayer):
        values["num_projections"] = layer.num_projections
    return values


def _check_specs(entry: _Entry, group: _Group) -> list[AuditFinding]:
    """Sizes of the config's class against the dry run's class-exact entry of the same role."""
    layers = [e.layer for e in group.core if e.layer is not None]
    if entry.layer is None or len(layers) != 1:
        return []
    mine, model = _semantics(entry.layer), _semantics(layers[0])
    findings = []
    for key in sorted(mine.keys() & model.keys()):
        found, expected = mine[key], model[key]
        if found == expected:
            continue
        if isinstance(found, int) and isinstance(expected, int) and not isinstance(found, bool):
            numbers, pair = _numbers(expected, found), (expected, found)
        else:
            numbers = f"expected {json.dumps(expected)}, found {json.dumps(found)}"
            pair = (None, None)
        findings.append(
            _finding(
                ERROR,
                "spec-mismatch",
                entry.name,
                f"{key} disagrees with the model ({group.label} in the dry run): {numbers}",
                *pair,
            )
        )
    return findings


def _explain_gap(entry: _Entry, group: _Group, addons: Sequence[_Entry]) -> str:
    parts = [
        f"{a.name} {a.per_instance:,} per {_NOUNS.get(group.role, group.role)} ({a.class_name}"
        f"{', no Mantile class' if a.class_name not in CATALOG else ''})"
        for a in addons
        if a.per_instance and (not a.layer_indices or set(a.layer_indices) & group.layers)
    ]
    if not parts:
        return ""
    core = group.core_size
    rest = ""
    if core is not None and entry.modelled is not None and entry.modelled != core:
        rest = (
            f"; the rest, {entry.modelled - core:+,}, is {entry.class_name}'s formula against "
            f"the dry run's exact {group.core[0].class_name} entry ({core:,})"
        )
    return f" The model has parts no entry here holds: {', '.join(parts)}{rest}."


def _check_entry_parameters(
    entry: _Entry, group: _Group, truth: int | None, addons: Sequence[_Entry], whole: bool
) -> list[AuditFinding]:
    if truth is None:
        return []
    noun = group.label[:-1]
    against = (
        f"the model's {group.label} have {truth:,} each"
        if whole
        else f"the dry run's exact entry for the {group.label} has {truth:,}"
    )
    findings = []
    modelled = entry.modelled
    if modelled is not None and modelled != truth:
        total = (modelled - truth) * entry.count
        findings.append(
            _finding(
                ERROR,
                "class-parameters",
                entry.name,
                f"{entry.class_name} on these specs gives {modelled:,} parameters per {noun} "
                f"(what Mantile uses for weight memory), {against}: "
                f"{_numbers(truth, modelled)}; × {entry.count} = {total:+,}."
                + (_explain_gap(entry, group, addons) if whole else ""),
                truth,
                modelled,
            )
        )
    declared = entry.declared
    if declared is not None and declared != truth:
        same = " (it is also not the class formula)" if modelled not in (None, declared) else ""
        findings.append(
            _finding(
                ERROR,
                "declared-parameters",
                entry.name,
                f"specs.parameter_count is {declared:,}{same}, {against}: "
                f"{_numbers(truth, declared)}; × {entry.count} = "
                f"{(declared - truth) * entry.count:+,}. Mantile ignores this field, but "
                f"total_params and readers rely on it",
                truth,
                declared,
            )
        )
    return findings


def _describe_norms(group: _Group, structure: Structure) -> str:
    per_layer = sum(1 for c in structure.of_kind("norm") if c.layer_index is not None) // max(
        structure.num_layers, 1
    )
    final = sum(1 for c in structure.of_kind("norm") if c.layer_index is None)
    if per_layer * structure.num_layers + final != group.count:
        return ""
    return f" ({per_layer} per decoder layer × {structure.num_layers} + {final} final)"


def _check_count(
    entries: Sequence[_Entry], group: _Group, structure: Structure
) -> list[AuditFinding]:
    found = sum(e.count for e in entries)
    expected = group.count
    if found == expected:
        return []
    names = ", ".join(e.name for e in entries)
    difference = found - expected
    size = group.size
    effect = ""
    if size is not None:
        word = "missing" if difference < 0 else "extra"
        label = group.label if abs(difference) != 1 else group.label[:-1]
        effect = (
            f": {abs(difference)} {label} {word} = {abs(difference) * size:,} parameters "
            f"({abs(difference)} × {size:,})"
        )
    detail = _describe_norms(group, structure) if group.role == "norm" else ""
    code = "norm-count" if group.role == "norm" else "layer-count"
    return [
        _finding(
            ERROR,
            code,
            names,
            f"{group.label} counted: {_numbers(expected, found)}; the model has "
            f"{expected}{detail}{effect}",
            expected,
            found,
        )
    ]


def _lm_head_advice(group: _Group, total: int) -> str:
    """Add the dry run's own lm_head entry: an exact stand-in, else an unsupported entry."""
    stand_in = next((e for e in group.core if e.stand_in_for), None)
    if stand_in is not None:
        entry = {
            "name": "lm_head",
            "class": stand_in.class_name,
            "count": 1,
            "specs": stand_in.specs,
            "stand_in_for": "lm_head",
        }
        return (
            f"add this exact stand-in to layer_types (same parameters, weight bytes and FLOPs "
            f"at parallelism 1): {json.dumps(entry)}"
        )
    return (
        f"no catalog class reproduces this one exactly, so add an entry named lm_head to "
        f"unsupported_layer_types (class LMHeadLayer, supported: false, specs.parameter_count "
        f"{total:,}, gap_report gaps/lm_head.md) so the parameter accounting closes; never to "
        f"layer_types, where Mantile's loader would fail on the unknown class (HTTP 500)"
    )


def _missing(group: _Group, structure: Structure) -> AuditFinding | None:
    if group.role == "norm":
        return None
    total = sum(group.sizes)
    if not total:
        return None
    if group.role == "lm_head":
        vocab, hidden = structure.vocab_size, structure.hidden_size
        return _finding(
            ERROR,
            "missing-lm-head",
            "lm_head",
            f"no LM head entry: the model's untied lm_head ({vocab:,} × {hidden:,}) is not "
            f"counted: {_numbers(total, 0)}; its 2·B·H·V FLOPs per generated token are missing "
            f"too. No Mantile class is an LM head; {_lm_head_advice(group, total)}",
            total,
            0,
        )
    return _finding(
        ERROR,
        "missing-component",
        group.role,
        f"no entry for the model's {group.count} {group.label}: {_numbers(total, 0)}",
        total,
        0,
    )


def _pair(
    config_groups: dict[str, list[_Entry]], dry_groups: dict[str, _Group]
) -> tuple[list[tuple[list[_Entry], _Group]], list[list[_Entry]], list[_Group]]:
    """Pair config entries with dry-run groups by variant; a lone leftover on each side pairs."""
    pairs = []
    config_left = dict(config_groups)
    dry_left = dict(dry_groups)
    for variant in list(config_left):
        if variant in dry_left:
            pairs.append((config_left.pop(variant), dry_left.pop(variant)))
    if config_left and dry_left and (len(config_left) == 1 or len(dry_left) == 1):
        merged = [entry for entries in config_left.values() for entry in entries]
        pairs.append((merged, _merge(list(dry_left.values()))))
        config_left, dry_left = {}, {}
    return pairs, list(config_left.values()), list(dry_left.values())


def _check_addons(
    role: str, config_addons: Sequence[_Entry], dry: _DryRun, config_has_core: bool
) -> list[AuditFinding]:
    findings = []
    model_addons = [a for a in dry.addons if a.role == role]
    matched: set[int] = set()
    for entry in config_addons:
        candidates = [
            (i, a) for i, a in enumerate(model_addons) if a.class_name == entry.class_name
        ] or [(i, a) for i, a in enumerate(model_addons) if a.name == entry.name]
        named = [(i, a) for i, a in candidates if a.name == entry.name]
        choice = (named or candidates or [None])[0]
        if choice is None:
            findings.append(
                _finding(
                    WARNING,
                    "unmatched-entry",
                    entry.name,
                    f"the dry run has no {entry.class_name} part in its {role} components; "
                    f"this entry adds {entry.count} × {entry.per_instance or 0:,} parameters",
                )
            )
            continue
        index, model = choice
        matched.add(index)
        if entry.count != model.count:
            findings.append(
                _finding(
                    ERROR,
                    "layer-count",
                    entry.name,
                    f"{model.name} parts counted: {_numbers(model.count, entry.count)}",
                    model.count,
                    entry.count,
                )
            )
        value = entry.per_instance
        truth = model.per_instance
        if value is not None and truth is not None and value != truth:
            code = "class-parameters" if entry.modelled is not None else "declared-parameters"
            findings.append(
                _finding(
                    ERROR,
                    code,
                    entry.name,
                    f"{entry.name} per instance against the dry run's {model.name}: "
                    f"{_numbers(truth, value)}",
                    truth,
                    value,
                )
            )
    split = f", while other {role} parts have their own entries" if config_addons else ""
    if config_addons or not config_has_core:
        for index, model in enumerate(model_addons):
            if index in matched or not model.per_instance:
                continue
            total = model.count * model.per_instance
            findings.append(
                _finding(
                    ERROR,
                    "missing-component",
                    model.name,
                    f"the model's {model.name} ({model.class_name}, {model.count} × "
                    f"{model.per_instance:,}) has no entry{split}: {_numbers(total, 0)}",
                    total,
                    0,
                )
            )
    return findings


def _check_roles(entries: Sequence[_Entry], dry: _DryRun) -> list[AuditFinding]:
    findings: list[AuditFinding] = []
    roles = sorted(
        {e.role for e in entries} | {role for role, _ in dry.groups},
        key=lambda r: list(_NOUNS).index(r) if r in _NOUNS else len(_NOUNS),
    )
    for role in roles:
        core = [e for e in entries if e.role == role and not e.addon]
        addons = [e for e in entries if e.role == role and e.addon]
        config_groups: dict[str, list[_Entry]] = {}
        for entry in core:
            config_groups.setdefault(entry.variant, []).append(entry)
        dry_groups = {variant: g for (r, variant), g in dry.groups.items() if r == role}
        pairs, extra, missing = _pair(config_groups, dry_groups)
        whole = not addons
        model_addons = [a for a in dry.addons if a.role == role]
        for group_entries, group in pairs:
            findings.extend(_check_count(group_entries, group, dry.structure))
            truth = group.size if whole else group.core_size
            for entry in group_entries:
                findings.extend(_check_specs(entry, group))
                findings.extend(_check_window(entry, group, dry.structure))
                findings.extend(_check_sinks(entry, group))
                findings.extend(_check_entry_parameters(entry, group, truth, model_addons, whole))
        for group_entries in extra:
            for entry in group_entries:
                total = entry.count * (entry.per_instance or 0)
                findings.append(
                    _finding(
                        ERROR if role != "other" else WARNING,
                        "extra-component" if role != "other" else "unmatched-entry",
                        entry.name,
                        f"the dry run has no {_NOUNS.get(role, role)} "
                        f"{'of this kind ' if dry_groups else ''}that this entry could stand "
                        f"for: it adds {_numbers(0, total)} parameters",
                        0,
                        total,
                    )
                )
        for group in missing:
            finding = _missing(group, dry.structure)
            if finding is not None:
                findings.append(finding)
        if role == "norm" and not core and dry_groups:
            group = _merge(list(dry_groups.values()))
            findings.extend(_check_count([], group, dry.structure))
        findings.extend(_check_addons(role, addons, dry, bool(core)))
    return findings


def _check_totals(
    config: Mapping[str, Any], entries: Sequence[_Entry], dry: _DryRun
) -> list[AuditFinding]:
    findings = []
    total = config.get("total_params")
    if not isinstance(total, int) or isinstance(total, bool):
        findings.append(
            _finding(
                WARNING,
                "total-params",
                "total_params",
                f"no total_params: Mantile lists and sorts this model as 0 parameters; the "
                f"model has {dry.total:,}",
                dry.total,
                None,
            )
        )
        total = None
    elif total != dry.total:
        findings.append(
            _finding(
                ERROR,
                "total-params",
                "total_params",
                f"total_params disagrees with the dry-run total: {_numbers(dry.total, total)}",
                dry.total,
                total,
            )
        )
    undeclared = [e.name for e in entries if e.declared is None]
    if undeclared:
        findings.append(
            _finding(
                WARNING,
                "no-parameter-count",
                ", ".join(undeclared),
                f"{len(undeclared)} of {len(entries)} entries have no specs.parameter_count "
                f"(metadata Mantile ignores): their own counts cannot be checked, and the layer "
                f"sum below uses their class formula",
            )
        )
    layer_sum = sum(
        e.count * (e.declared if e.declared is not None else (e.modelled or 0)) for e in entries
    )
    if total is not None and layer_sum != total:
        how = "count × specs.parameter_count"
        if undeclared:
            how += " (class formula where parameter_count is absent)"
        findings.append(
            _finding(
                ERROR,
                "layer-sum",
                "total_params",
                f"the sum over layer_types of {how} is not total_params: "
                f"{_numbers(total, layer_sum)}",
                total,
                layer_sum,
            )
        )
    modelled = sum(e.count * (e.per_instance or 0) for e in entries)
    if modelled != dry.total:
        findings.append(
            _finding(
                ERROR,
                "modelled-total",
                CONFIG,
                f"Mantile's classes compute {modelled:,} parameters for this config (weight "
                f"memory and load time follow it; declared counts stand in for classes it "
                f"lacks), the model has {dry.total:,}: {_numbers(dry.total, modelled)}",
                dry.total,
                modelled,
            )
        )
    return findings


def _check_info(config: Mapping[str, Any], dry_run: BuildResult) -> list[AuditFinding]:
    structure = dry_run.structure
    findings = []
    for key, value in (
        ("hidden_size", structure.hidden_size),
        ("num_layers", structure.num_layers),
        ("vocab_size", structure.vocab_size),
    ):
        given = config.get(key)
        if isinstance(given, int) and not isinstance(given, bool) and given != value:
            findings.append(
                _finding(
                    WARNING,
                    "info-mismatch",
                    key,
                    f"{key} (informational, never read by Mantile) disagrees with the model: "
                    f"{_numbers(value, given)}",
                    value,
                    given,
                )
            )
    hf_id = config.get("hf_model_id")
    model = dry_run.inspection.hf_id or dry_run.inspection.model
    if isinstance(hf_id, str) and hf_id.lower() != str(model).lower():
        findings.append(
            _finding(
                WARNING,
                "model-id",
                "hf_model_id",
                f"the config says hf_model_id {hf_id!r}, but it was checked against {model!r}",
            )
        )
    return findings


def audit_config(
    config: Mapping[str, Any],
    dry_run: BuildResult,
    layers: Mapping[str, LayerClassInfo] | None = None,
) -> list[AuditFinding]:
    """Every defect of a hand-written Mantile config against the dry run of its model.

    `layers` (from `get_supported_layers(layers_dir)`) replaces the catalog as the set of classes
    the loader knows; parameter formulas always come from the harness catalog.
    """
    findings, bad_entries = _schema_findings(config)
    if not isinstance(config.get("layer_types"), list):
        return findings
    dry = _dry_run_view(dry_run)
    entries: list[_Entry] = []
    for key in _LISTS:
        raw_entries = config.get(key)
        if not isinstance(raw_entries, list):
            continue
        objects = {i for i, raw in enumerate(raw_entries) if isinstance(raw, dict)}
        skip = bad_entries[key] | (set(range(len(raw_entries))) - objects)
        entries += _read_entries(
            raw_entries, skip, layers, dry.layer_variants, findings, loaded=key == "layer_types"
        )
    for entry in entries:
        findings.extend(_check_width(entry))
    findings.extend(_check_roles(entries, dry))
    findings.extend(_check_totals(config, entries, dry))
    findings.extend(_check_info(config, dry_run))
    return findings
