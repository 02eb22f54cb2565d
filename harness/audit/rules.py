"""The rules: each compares one aspect of the config's entries with the dry run.

See `harness.audit` for what is checked, in which order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..catalog import (
    CATALOG,
    AttentionLayer,
    GroupedQueryAttentionLayer,
    Layer,
    MLPLayer,
    SlidingWindowAttentionLayer,
)
from ..pipeline.config import BuildResult
from ..pipeline.structure import TEXT, Structure
from .report import CONFIG, ERROR, WARNING, AuditFinding, _finding, _numbers, _percent
from .roles import _DryRun, _Entry, _Group, _merge, _noun, _role_order

__all__ = ["REFERENCE_DTYPE", "REFERENCE_PREFILL_TOKENS"]

# Reference workload for FLOP and KV figures in messages: one sequence, bf16.
REFERENCE_PREFILL_TOKENS = 1024
REFERENCE_DTYPE = "bf16"


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
        structure.arch.max_position_embeddings
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
        f"{a.name} {a.per_instance:,} per {_noun(group.role)} ({a.class_name}"
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
    if group.part != TEXT:
        return ""
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
        _qualified(group.part, group.role),
        f"no entry for the model's {group.count} {group.label}: {_numbers(total, 0)}",
        total,
        0,
    )


def _qualified(part: str, role: str) -> str:
    """A role as findings name it: `attention`, or `vision_attention` outside the text stack."""
    return role if part == TEXT else f"{part}_{role}"


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
    key: tuple[str, str], config_addons: Sequence[_Entry], dry: _DryRun, config_has_core: bool
) -> list[AuditFinding]:
    findings = []
    role = key[1] if key[0] == TEXT else f"{key[0]} {key[1]}"
    model_addons = [a for a in dry.addons if (a.part, a.role) == key]
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
    keys = sorted(
        {(e.part, e.role) for e in entries} | {(part, role) for part, role, _ in dry.groups},
        key=_role_order,
    )
    for key in keys:
        part, role = key
        core = [e for e in entries if (e.part, e.role) == key and not e.addon]
        addons = [e for e in entries if (e.part, e.role) == key and e.addon]
        config_groups: dict[str, list[_Entry]] = {}
        for entry in core:
            config_groups.setdefault(entry.variant, []).append(entry)
        dry_groups = {v: g for (p, r, v), g in dry.groups.items() if (p, r) == key}
        pairs, extra, missing = _pair(config_groups, dry_groups)
        whole = not addons
        model_addons = [a for a in dry.addons if (a.part, a.role) == key]
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
                where = f"{part} " if part != TEXT else ""
                findings.append(
                    _finding(
                        ERROR if role != "unknown" else WARNING,
                        "extra-component" if role != "unknown" else "unmatched-entry",
                        entry.name,
                        f"the dry run has no {where}{_noun(role)} "
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
        findings.extend(_check_addons(key, addons, dry, bool(core)))
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
