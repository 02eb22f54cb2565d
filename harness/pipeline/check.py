"""Step 6, check: compare a build with a case's public facts and produce the validation report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..enums import StrEnum
from .cases import CHECKPOINT_FACT, CheckpointClaim, Claim, Fact, ModelCase
from .config import BuildResult
from .inventory import format_count
from .reconcile import Reconciliation, reconcile
from .structure import (
    AttentionAttrs,
    AttentionVariant,
    Attrs,
    ComponentKind,
    LatentAttentionAttrs,
    MlpAttrs,
    MoEAttrs,
    Structure,
)

__all__ = [
    "CheckResult",
    "FactStatus",
    "ParameterScope",
    "check_case",
    "check_checkpoint",
    "check_fact",
    "observed_facts",
    "parameter_scope",
    "validation_block",
]


class FactStatus(StrEnum):
    """How a fact came out: it holds, it fails, or it differs as the case states and explains."""

    PASS = "pass"
    FAIL = "fail"
    EXPECTED_DEVIATION = "expected-deviation"


@dataclass(frozen=True)
class CheckResult:
    """One fact checked: expected, observed, relative difference, status and source."""

    fact: str
    expected: Any
    observed: Any
    difference: float | None  # relative, after the claim's expected_difference
    status: FactStatus
    source: str
    message: str
    expected_difference: int = 0  # a claim's stated published-minus-logical difference
    tolerance: float | None = None  # a claim's; a structural fact is exact
    terms: tuple[dict[str, Any], ...] = field(default=())  # checkpoint claim: the reconciliation
    unexplained: int | None = None  # checkpoint claim: stored minus predicted

    @property
    def passed(self) -> bool:
        """True unless the fact failed."""
        return self.status is not FactStatus.FAIL

    def as_json(self) -> dict[str, Any]:
        """A row of the config's `validation` list."""
        row = {
            "fact": self.fact,
            "expected": self.expected,
            "observed": self.observed,
            "difference": None if self.difference is None else round(self.difference, 6),
            "status": self.status.value,
            "source": self.source,
        }
        if self.fact == CHECKPOINT_FACT:
            row["terms"] = list(self.terms)
            row["unexplained"] = self.unexplained
        return row


INPUT_EMBEDDING_KINDS = (
    ComponentKind.EMBEDDING,
    ComponentKind.POSITION_EMBEDDING,
    ComponentKind.TOKEN_TYPE_EMBEDDING,
)


@dataclass(frozen=True)
class ParameterScope:
    """The parts a published parameter count often counts differently, as the dry run has them."""

    total: int
    active: int | None  # per token, MoE only: the total minus the routed experts a token skips
    input_embedding: int  # the input tables (token, position, token type)
    lm_head: int  # the output head's own parameters: 0 when tied to the input embedding
    tied: bool

    @property
    def skipped_experts(self) -> int:
        """Parameters of the routed experts one token does not visit (0 for a dense model)."""
        return 0 if self.active is None else self.total - self.active

    @property
    def active_without_input_embedding(self) -> int | None:
        """Active parameters leaving the input tables out, as most model cards count them."""
        return None if self.active is None else self.active - self.input_embedding

    def count(self, fact: str) -> int:
        """The dry run's `total_params`, or `active_params` (the total for a dense model)."""
        return self.active if fact == "active_params" and self.active is not None else self.total

    def alternatives(self, fact: str) -> list[tuple[str, int]]:
        """The other scopes a published `total_params` or `active_params` commonly has."""
        base = self.count(fact)
        found = [("without the input embedding", base - self.input_embedding)]
        if self.lm_head:
            found.append(
                (
                    "without the input embedding and the LM head",
                    base - self.input_embedding - self.lm_head,
                )
            )
        elif self.tied and fact == "total_params":
            found.append(("with the tied embedding stored twice", base + self.input_embedding))
        return found

    def breakdown(self) -> str:
        """One line: the parts, in words and counts."""
        tied_head = self.tied and not self.lm_head
        head = "0 (tied to the input embedding)" if tied_head else f"{self.lm_head:,}"
        parts = [f"input embedding {self.input_embedding:,}", f"LM head {head}"]
        if self.active is not None:
            parts.append(f"routed experts a token skips {self.skipped_experts:,}")
        return ", ".join(parts)


def parameter_scope(result: BuildResult) -> ParameterScope:
    """The dry run's counts behind the usual differences of scope between published figures."""
    structure = result.structure
    config = result.config
    active = config.get("active_params")
    return ParameterScope(
        total=config["total_params"],
        active=active if isinstance(active, int) else None,
        input_embedding=sum(
            c.parameter_count for kind in INPUT_EMBEDDING_KINDS for c in structure.of_kind(kind)
        ),
        lm_head=sum(c.parameter_count for c in structure.of_kind(ComponentKind.LM_HEAD)),
        tied=structure.tied_embeddings,
    )


def _scope_hint(name: str, fact: Claim, scope: ParameterScope | None) -> str:
    """For a failing claim: the dry run's parts and the figures of other scopes, each with the
    expected_difference that states it."""
    if scope is None or fact.value is None:
        return ""
    observed = scope.count(name)
    lines = [f"the dry run counts: {scope.breakdown()}"]
    for label, value in scope.alternatives(name):
        relative = (value - fact.value) / fact.value
        lines.append(
            f"{label}: {value:,} ({relative:+.3%} vs published); if the source counts that, "
            f"add expected_difference={value - observed:_} with a reason"
        )
    return "; ".join(lines)


def _todo_hint(name: str, scope: ParameterScope | None) -> str:
    """For a TODO claim: the parts and the other scopes, to match against the published figure."""
    if scope is None:
        return ""
    others = "; ".join(f"{label}: {value:,}" for label, value in scope.alternatives(name))
    return f"; the dry run counts: {scope.breakdown()}" + (f"; {others}" if others else "")


def _first(structure: Structure, kind: ComponentKind) -> Attrs | None:
    found = structure.of_kind(kind)
    return found[0].attrs if found else None


def _attention_facts(attrs: Attrs | None) -> tuple[str | None, Any, Any, Any]:
    """(attention_kind, num_heads, num_kv_heads, head_dim) of the first attention, as words and
    numbers: a gated attention by how its heads share keys, MLA's head width the non-RoPE part."""
    if isinstance(attrs, LatentAttentionAttrs):
        return AttentionVariant.MLA.value, attrs.num_heads, None, attrs.qk_nope_head_dim
    if not isinstance(attrs, AttentionAttrs):
        return None, None, None, None
    heads, kv = attrs.num_heads, attrs.num_kv_heads
    variant = attrs.variant
    if variant is AttentionVariant.GATED:
        variant = (
            AttentionVariant.MHA
            if heads == kv
            else (AttentionVariant.MQA if kv == 1 else AttentionVariant.GQA)
        )
    return variant.value, heads, kv, attrs.head_dim


def observed_facts(result: BuildResult) -> dict[str, Any]:
    """Every checkable fact as the dry run shows it."""
    structure = result.structure
    variant, heads, kv_heads, head_dim = _attention_facts(
        _first(structure, ComponentKind.ATTENTION)
    )
    moe = _first(structure, ComponentKind.MOE)
    mlp = _first(structure, ComponentKind.MLP)
    moe = moe if isinstance(moe, MoEAttrs) else None
    mlp = mlp if isinstance(mlp, MlpAttrs) else None
    norms = structure.of_kind(ComponentKind.NORM)
    norm_class = norms[0].module_class if norms else ""
    mlp_kind = "moe" if moe else ("gated" if mlp and mlp.gated else ("plain" if mlp else None))
    return {
        "total_params": result.config["total_params"],
        "active_params": result.config.get("active_params", result.config["total_params"]),
        "num_layers": structure.num_layers,
        "hidden_size": structure.hidden_size,
        "num_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "vocab_size": structure.vocab_size,
        "intermediate_size": (mlp.intermediate_size if mlp else None)
        or (moe.intermediate_size if moe else None),
        "moe_intermediate_size": moe.intermediate_size if moe else None,
        "num_experts": moe.num_experts if moe else None,
        "experts_per_token": moe.top_k if moe else None,
        "tied_embeddings": structure.tied_embeddings,
        "attention_kind": variant,
        "mlp_kind": mlp_kind,
        "norm_kind": "rmsnorm" if "RMS" in norm_class else ("layernorm" if norm_class else None),
        "context_length": structure.arch.max_position_embeddings,
    }


def check_fact(
    name: str, fact: Claim | Fact, observed: Any, scope: ParameterScope | None = None
) -> CheckResult:
    """Check one fact: a Claim within tolerance (after any stated difference), a Fact exactly.

    With the build's `scope`, a failing claim's message names the parts a published count often
    includes or leaves out (input embedding, LM head, tied weights, routed experts)."""
    if isinstance(fact, Fact):
        ok = observed == fact.value
        message = f"{name}: expected {fact.value!r}, observed {observed!r} (source: {fact.source})"
        return CheckResult(
            name,
            fact.value,
            observed,
            None,
            FactStatus.PASS if ok else FactStatus.FAIL,
            fact.source,
            message,
        )
    if fact.value is None:
        return CheckResult(
            name,
            None,
            observed,
            None,
            FactStatus.FAIL,
            fact.source,
            f"{name}: TODO claim: fill in the published value with its source "
            f"(the dry run gives {observed:,} = {format_count(observed)})"
            + _todo_hint(name, scope),
        )
    unfilled = [part for part in ("source", "scope") if getattr(fact, part).startswith("TODO")]
    if unfilled:
        return CheckResult(
            name,
            fact.value,
            observed,
            None,
            FactStatus.FAIL,
            fact.source,
            f"{name}: the claim {fact.value:,} still has a TODO {' and '.join(unfilled)}; "
            "say where it is published and what it counts",
        )
    logical = fact.value - fact.expected_difference
    difference = (observed - logical) / logical
    ok = abs(difference) <= fact.tolerance
    explained = bool(fact.expected_difference) or fact.tolerance > 0.01
    status = (
        FactStatus.FAIL
        if not ok
        else (FactStatus.EXPECTED_DEVIATION if explained else FactStatus.PASS)
    )
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
    hint = _scope_hint(name, fact, scope) if not ok else ""
    if hint:
        message += f"; {hint}"
    return CheckResult(
        name,
        fact.value,
        observed,
        difference,
        status,
        fact.source,
        message,
        expected_difference=fact.expected_difference,
        tolerance=fact.tolerance,
    )


def _terms_text(reconciliation: Reconciliation) -> str:
    parts = [f"{t.kind} {t.params:+,}" for t in reconciliation.terms]
    return ", ".join(parts) or "no terms"


def check_checkpoint(claim: CheckpointClaim, result: BuildResult) -> CheckResult:
    """Check the stored total exactly: built + the reconciliation's terms + a named remainder."""
    from .checkpoint import refresh_hint, vendored_summary

    name = CHECKPOINT_FACT
    hf_id = result.inspection.hf_id or result.model_id
    built = result.inspection.total_params
    if claim.value is None:
        return CheckResult(
            name,
            None,
            built,
            None,
            FactStatus.FAIL,
            claim.source,
            f"{name}: TODO claim: {refresh_hint(hf_id)}, vendors checkpoint.json and prints the "
            f"filled claim (the dry run builds {built:,})",
        )
    summary = vendored_summary(result.inspection.resolved)
    rec = reconcile(result.inspection, result.structure, summary, stored_total=claim.value)
    terms = tuple(t.as_json() for t in rec.terms)
    remainder = claim.value - rec.predicted_total
    problems = []
    if summary is not None and summary.total != claim.value:
        problems.append(
            f"the vendored {summary.path.name if summary.path else 'checkpoint.json'} stores "
            f"{summary.total:,}, the claim says {claim.value:,}"
        )
    if claim.expected_difference != rec.explained:
        problems.append(
            f"the case states a difference of {claim.expected_difference:+,}, the reconciliation "
            f"explains {rec.explained:+,} ({_terms_text(rec)})"
        )
    if remainder != claim.unexplained:
        problems.append(
            f"stored {claim.value:,} - predicted {rec.predicted_total:,} leaves {remainder:+,} "
            f"unexplained, the case names {claim.unexplained:+,}"
        )
    mismatches = rec.dtype_mismatches
    if mismatches and not claim.unexplained:
        problems.append(
            "per-dtype counts differ: "
            + ", ".join(f"{k} stored {a:,} predicted {b:,}" for k, (a, b) in mismatches.items())
        )
    difference = (rec.predicted_total - claim.value) / claim.value
    deviates = bool(rec.terms) or bool(claim.unexplained)
    status = (
        FactStatus.FAIL
        if problems
        else (FactStatus.EXPECTED_DEVIATION if deviates else FactStatus.PASS)
    )
    detail = "; ".join(problems) if problems else "exact"
    message = (
        f"{name}: stored {claim.value:,} ({claim.scope}) = built {built:,} "
        f"+ {_terms_text(rec)}"
        + (
            f" + unexplained {claim.unexplained:+,} ({claim.unexplained_reason})"
            if claim.unexplained
            else ""
        )
        + f": {detail} (source: {claim.source})"
    )
    return CheckResult(
        name,
        claim.value,
        rec.predicted_total,
        difference,
        status,
        claim.source,
        message,
        expected_difference=claim.expected_difference,
        tolerance=0.0,  # checked exactly
        terms=terms,
        unexplained=remainder,
    )


def check_case(case: ModelCase, result: BuildResult) -> list[CheckResult]:
    """Check every fact the case gives; a fact left out is not checked."""
    observed = observed_facts(result)
    scope = parameter_scope(result)
    return [
        check_checkpoint(fact, result)
        if isinstance(fact, CheckpointClaim)
        else check_fact(name, fact, observed[name], scope)
        for name, fact in case.facts.items()
    ]


def validation_block(case: ModelCase, results: list[CheckResult]) -> dict[str, Any]:
    """The config's validated / validation_notes / validation_sources / validation fields."""
    failed = [r.fact for r in results if not r.passed]
    deviations = [r.fact for r in results if r.status is FactStatus.EXPECTED_DEVIATION]
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
