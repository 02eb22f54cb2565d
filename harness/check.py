"""Step 6, check: compare a build with a case's public facts and produce the validation report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .build import BuildResult
from .cases import Claim, Fact, ModelCase
from .inspection import format_count
from .structure import Structure

__all__ = [
    "CheckResult",
    "build_case",
    "check_case",
    "check_fact",
    "observed_facts",
    "validation_block",
]


@dataclass(frozen=True)
class CheckResult:
    """One fact checked: expected, observed, relative difference, status and source."""

    fact: str
    expected: Any
    observed: Any
    difference: float | None
    status: str  # "pass", "fail" or "expected-deviation"
    source: str
    message: str

    @property
    def passed(self) -> bool:
        """True unless the fact failed."""
        return self.status != "fail"

    def as_json(self) -> dict[str, Any]:
        """A row of the config's `validation` list."""
        return {
            "fact": self.fact,
            "expected": self.expected,
            "observed": self.observed,
            "difference": None if self.difference is None else round(self.difference, 6),
            "status": self.status,
            "source": self.source,
        }


def _first(structure: Structure, kind: str) -> dict[str, Any]:
    found = structure.of_kind(kind)
    return found[0].attrs if found else {}


def observed_facts(result: BuildResult) -> dict[str, Any]:
    """Every checkable fact as the dry run shows it."""
    structure = result.structure
    attention = _first(structure, "attention")
    moe = _first(structure, "moe")
    mlp = _first(structure, "mlp")
    norms = structure.of_kind("norm")
    norm_class = norms[0].module_class if norms else ""
    variant = attention.get("variant")
    if variant == "gated":
        heads, kv = attention.get("num_heads"), attention.get("num_kv_heads")
        variant = "mha" if heads == kv else ("mqa" if kv == 1 else "gqa")
    head_dim = attention.get("qk_nope_head_dim") if variant == "mla" else attention.get("head_dim")
    return {
        "total_params": result.config["total_params"],
        "active_params": result.config.get("active_params", result.config["total_params"]),
        "num_layers": structure.num_layers,
        "hidden_size": structure.hidden_size,
        "num_heads": attention.get("num_heads"),
        "num_kv_heads": attention.get("num_kv_heads"),
        "head_dim": head_dim,
        "vocab_size": structure.vocab_size,
        "intermediate_size": mlp.get("intermediate_size") or moe.get("intermediate_size"),
        "moe_intermediate_size": moe.get("intermediate_size"),
        "num_experts": moe.get("num_experts"),
        "experts_per_token": moe.get("top_k"),
        "tied_embeddings": structure.tied_embeddings,
        "attention_kind": variant,
        "mlp_kind": "moe" if moe else ("gated" if mlp.get("gated") else ("plain" if mlp else None)),
        "norm_kind": "rmsnorm" if "RMS" in norm_class else ("layernorm" if norm_class else None),
        "context_length": structure.arch.get("max_position_embeddings"),
    }


def check_fact(name: str, fact: Claim | Fact, observed: Any) -> CheckResult:
    """Check one fact: a Claim within tolerance (after any stated difference), a Fact exactly."""
    if isinstance(fact, Fact):
        ok = observed == fact.value
        message = f"{name}: expected {fact.value!r}, observed {observed!r} (source: {fact.source})"
        return CheckResult(
            name, fact.value, observed, None, "pass" if ok else "fail", fact.source, message
        )
    if fact.value is None:
        return CheckResult(
            name,
            None,
            observed,
            None,
            "fail",
            fact.source,
            f"{name}: TODO claim: fill in the published value with its source "
            f"(the dry run gives {observed:,} = {format_count(observed)})",
        )
    unfilled = [part for part in ("source", "scope") if getattr(fact, part).startswith("TODO")]
    if unfilled:
        return CheckResult(
            name,
            fact.value,
            observed,
            None,
            "fail",
            fact.source,
            f"{name}: the claim {fact.value:,} still has a TODO {' and '.join(unfilled)}; "
            "say where it is published and what it counts",
        )
    logical = fact.value - fact.expected_difference
    difference = (observed - logical) / logical
    ok = abs(difference) <= fact.tolerance
    explained = bool(fact.expected_difference) or fact.tolerance > 0.01
    status = "fail" if not ok else ("expected-deviation" if explained else "pass")
    detail = (
        f" after the stated difference of {fact.expected_difference:+,} ({fact.reason})"
        if fact.expected_difference
        else (f" ({fact.reason})" if fact.reason else "")
    )
    message = (
        f"{name}: expected {fact.value:,} ({fact.scope or 'no scope given'}), "
        f"observed {observed:,}, "
        f"relative difference {difference:+.3%} vs tolerance {fact.tolerance:.2%}{detail} "
        f"(source: {fact.source})"
    )
    return CheckResult(name, fact.value, observed, difference, status, fact.source, message)


def check_case(case: ModelCase, result: BuildResult) -> list[CheckResult]:
    """Check every fact the case gives; a fact left out is not checked."""
    observed = observed_facts(result)
    return [check_fact(name, fact, observed[name]) for name, fact in case.facts.items()]


def validation_block(case: ModelCase, results: list[CheckResult]) -> dict[str, Any]:
    """The config's validated / validation_notes / validation_sources / validation fields."""
    failed = [r.fact for r in results if not r.passed]
    deviations = [r.fact for r in results if r.status == "expected-deviation"]
    notes = f"{len(results)} public facts checked, {len(failed)} failed"
    if failed:
        notes += f" ({', '.join(failed)})"
    if deviations:
        notes += f"; expected deviations with stated reasons: {', '.join(deviations)}"
    if case.notes:
        notes += f". {case.notes}"
    sources = list(dict.fromkeys([*case.sources, *(f.source for f in case.facts.values())]))
    return {
        "validated": bool(results) and not failed,
        "validation_notes": notes,
        "validation_sources": sources,
        "validation": [r.as_json() for r in results],
    }


def with_validation(
    case: ModelCase, result: BuildResult, *, check_schema: bool = True
) -> tuple[BuildResult, list[CheckResult]]:
    """Check a build against a case's facts and put the validation report in its config."""
    from dataclasses import replace

    from .build import build_config, validate_schema

    results = check_case(case, result)
    config = build_config(
        result.inspection,
        result.structure,
        result.entries,
        model_id=result.model_id,
        validation=validation_block(case, results),
        hf_id=result.config["hf_model_id"],
    )
    if check_schema:
        validate_schema(config, where=f"generated config of {case.hf_id}")
    return replace(result, config=config), results


def build_case(
    case: ModelCase, *, offline: bool = True, use_cache: bool = True, check_schema: bool = True
) -> tuple[BuildResult, list[CheckResult]]:
    """Build a case's model offline, check its facts, put the validation report in the config."""
    from .build import build_from_inspection
    from .inspection import inspect_model_structure

    inspection = inspect_model_structure(
        case.hf_id,
        case.revision,
        offline=offline,
        trust_remote_code=case.trust_remote_code,
        use_cache=use_cache,
        native_class=case.native_class,
    )
    # Only the final config (this one plus its validation block) needs a schema check.
    result = build_from_inspection(inspection, check_schema=False)
    return with_validation(case, result, check_schema=check_schema)
