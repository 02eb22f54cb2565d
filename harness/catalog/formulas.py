"""Reference formulas per gap kind: what a component the target cannot compute costs, in one place.

For every gap kind with a known formula this registry says, from the entry's specs: parameters,
weight bytes, matmul FLOPs, KV-cache bytes, how many values per token an estimator may touch
elementwise on top, and which catalog classes reproduce the component exactly (stand-ins).
Mapping uses it to prove stand-ins, `harness.pipeline.estimate` to say what share of the model
an estimate covers, and `harness.gaps` for the numbers a gap skeleton asserts.

Conventions (the catalog's, see harness/catalog/base.py): FLOPs count matrix multiplications
only, 2·M·K·N per GEMM, of the whole layer at parallelism 1; elementwise work counts 0. A `Step` is
B sequences of `new_tokens` new tokens each attending `context` keys (themselves included): prefill
of S tokens is (B, S, S), decode is (B, 1, L). KV-cache bytes are those of B sequences holding
`context` tokens. A formula marked `flops_exact=False` is a lower bound (the projections only).
Kinds without a record (unknown components, cross-attention ...) have no formula: their share is not
estimated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import Layer, Phase
from .targets import LayerSet

__all__ = [
    "ELEMENTWISE_OPS_PER_VALUE",
    "FLOPS_TOLERANCE",
    "GAP_FORMULAS",
    "GapFormula",
    "StandIn",
    "Step",
    "exact_stand_in",
    "formula_for",
    "stand_in_points",
]

Specs = Mapping[str, Any]

# The allowance a FLOP assertion gives an estimator above the matmul count: a relative share of
# it, plus a few operations per value the component touches elementwise per token (bias adds,
# norms, gates, softmax columns). The matmul count itself is the lower bound.
FLOPS_TOLERANCE = 0.01
ELEMENTWISE_OPS_PER_VALUE = 8


@dataclass(frozen=True)
class Step:
    """One forward step: B sequences of `new_tokens` tokens, each attending `context` keys."""

    phase: str
    batch: int
    new_tokens: int
    context: int

    @property
    def tokens(self) -> int:
        """B x new tokens."""
        return self.batch * self.new_tokens

    @classmethod
    def prefill(cls, batch: int, seq_len: int) -> Step:
        """B sequences of S new tokens attending each other (S keys)."""
        return cls(Phase.PREFILL.value, batch, seq_len, seq_len)

    @classmethod
    def decode(cls, batch: int, context: int) -> Step:
        """One new token per sequence attending `context` keys (itself included)."""
        return cls(Phase.DECODE.value, batch, 1, context)


@dataclass(frozen=True)
class GapFormula:
    """The reference formulas of one gap kind (each None where no formula is known)."""

    kind: str
    parameters: Callable[[Specs], int | None] | None = None
    flops: Callable[[Specs, Step], int | None] | None = None
    flops_exact: bool = True  # False: `flops` is a lower bound (projections only)
    # KV-cache (or recurrent state) bytes: (specs, batch, context, bytes per element).
    cache_bytes: Callable[[Specs, int, int, float], float | None] | None = None
    constant_state: bool = False  # the cache is a fixed state, not per token
    elementwise_values: Callable[[Specs], int | None] | None = None  # per token
    stand_ins: Callable[[Specs], list[tuple[str, dict[str, Any]]]] | None = None
    stand_in_note: str = ""
    notes: dict[str, str] = field(default_factory=dict)  # what the skeleton's numbers mean

    def weight_bytes(self, specs: Specs, bytes_per_element: float) -> float | None:
        """Parameters x bytes per element (one dtype for the whole layer)."""
        count = self.parameters(specs) if self.parameters is not None else None
        if count is None:
            count = _int(specs, "parameter_count")
        return None if count is None else count * bytes_per_element


def _int(specs: Specs, key: str) -> int | None:
    value = specs.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ints(specs: Specs, *keys: str) -> tuple[int, ...] | None:
    found = [_int(specs, key) for key in keys]
    if any(value is None for value in found):
        return None
    return tuple(value for value in found if value is not None)


def _declared(specs: Specs) -> int | None:
    """The entry's own exact count (the dry run's tensor shapes)."""
    return _int(specs, "parameter_count")


def _no_cache(specs: Specs, batch: int, context: int, bytes_per_element: float) -> float:
    return 0.0


def _no_matmul(specs: Specs, step: Step) -> int:
    return 0


# --------------------------------------------------------------------------- lm_head


def _lm_head_parameters(specs: Specs) -> int | None:
    found = _ints(specs, "vocab_size", "hidden_size")
    if found is None:
        return None
    vocab, hidden = found
    if specs.get("tied"):
        return 0  # the weight is the embedding's, counted there
    return vocab * hidden + (vocab if specs.get("has_bias") else 0)


def _lm_head_flops(specs: Specs, step: Step) -> int | None:
    found = _ints(specs, "vocab_size", "hidden_size")
    return None if found is None else 2 * step.tokens * found[0] * found[1]


def _lm_head_bias_values(specs: Specs) -> int | None:
    return _int(specs, "vocab_size") if specs.get("has_bias") else 0


def _lm_head_stand_ins(specs: Specs) -> list[tuple[str, dict[str, Any]]]:
    found = _ints(specs, "vocab_size", "hidden_size")
    if found is None or specs.get("tied") or specs.get("has_bias"):
        return []
    vocab, hidden = found
    candidates: list[tuple[str, dict[str, Any]]] = []
    if vocab % 2 == 0:
        candidates.append(
            (
                "MLPLayer",
                {"hidden_size": hidden, "intermediate_size": vocab // 2, "num_projections": 2},
            )
        )
    if vocab % 3 == 0:
        gated = {"hidden_size": hidden, "intermediate_size": vocab // 3}
        candidates.append(("GatedMLPLayer", gated))
    return candidates


# --------------------------------------------------------------------------- attention add-ons


def _sink_values(specs: Specs) -> int | None:
    return _int(specs, "num_heads")  # one extra softmax column per head


def _attention_bias_parameters(specs: Specs) -> int | None:
    found = _ints(specs, "hidden_size", "d_q", "d_kv")
    if found is None:
        return None
    hidden, d_q, d_kv = found
    widths = {"q": d_q, "k": d_kv, "v": d_kv, "o": hidden}
    return sum(width for letter, width in widths.items() if specs.get(f"{letter}_bias"))


def _qk_norm_values(specs: Specs) -> int | None:
    found = _ints(specs, "num_heads", "num_kv_heads", "head_dim")
    return None if found is None else (found[0] + found[1]) * found[2]


def _gate_width(specs: Specs) -> int | None:
    width = _int(specs, "gate_width")
    if width is not None:
        return width
    found = _ints(specs, "num_heads", "head_dim")
    return None if found is None else found[0] * found[1]


def _gate_flops(specs: Specs, step: Step) -> int | None:
    hidden, width = _int(specs, "hidden_size"), _gate_width(specs)
    return None if hidden is None or width is None else 2 * step.tokens * hidden * width


def _shared_gate_flops(specs: Specs, step: Step) -> int | None:
    hidden = _int(specs, "hidden_size")
    return None if hidden is None else 2 * step.tokens * hidden


def _attention_cache(
    specs: Specs, batch: int, context: int, bytes_per_element: float
) -> float | None:
    found = _ints(specs, "num_kv_heads", "head_dim")
    if found is None:
        return None
    window = _int(specs, "sliding_window")
    kept = context if window is None else min(context, window)
    return 2 * batch * kept * found[0] * found[1] * bytes_per_element


# --------------------------------------------------------------------------- MLA


def _mla_projections(specs: Specs) -> int | None:
    """Matmul FLOPs per token of MLA's projections (q, kv down and up, o)."""
    found = _ints(
        specs,
        "hidden_size",
        "num_heads",
        "kv_lora_rank",
        "qk_nope_head_dim",
        "qk_rope_head_dim",
        "v_head_dim",
    )
    if found is None:
        return None
    hidden, heads, r_kv, d_nope, d_rope, d_v = found
    r_q = _int(specs, "q_lora_rank")
    if r_q:
        query = 2 * hidden * r_q + 2 * r_q * heads * (d_nope + d_rope)
    else:
        query = 2 * hidden * heads * (d_nope + d_rope)
    return (
        query
        + 2 * hidden * (r_kv + d_rope)
        + 2 * r_kv * heads * (d_nope + d_v)
        + 2 * heads * d_v * hidden
    )


def _mla_flops(specs: Specs, step: Step) -> int | None:
    projections = _mla_projections(specs)
    found = _ints(specs, "num_heads", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim")
    d_v = _int(specs, "v_head_dim")
    if projections is None or found is None or d_v is None:
        return None
    heads, r_kv, d_nope, d_rope = found
    pairs = step.tokens * step.context  # query-key pairs
    if step.phase == Phase.DECODE.value:
        # Absorbed: scores and values over the latent cache (kv_b folded into q and o).
        return step.tokens * projections + 2 * heads * pairs * (r_kv + d_rope + r_kv)
    # Naive: keys and values expanded per head.
    return step.tokens * projections + 2 * heads * pairs * (d_nope + d_rope + d_v)


def _mla_cache(specs: Specs, batch: int, context: int, bytes_per_element: float) -> float | None:
    found = _ints(specs, "kv_lora_rank", "qk_rope_head_dim")
    if found is None:
        return None
    return batch * context * (found[0] + found[1]) * bytes_per_element


# --------------------------------------------------------------------------- recurrent mixers


def _mamba_flops(specs: Specs, step: Step) -> int | None:
    found = _ints(specs, "hidden_size", "intermediate_size", "state_size", "time_step_rank")
    if found is None:
        return None
    hidden, inner, state, rank = found
    per_token = (
        2 * hidden * 2 * inner
        + 2 * inner * (rank + 2 * state)
        + 2 * rank * inner
        + 2 * inner * hidden
    )
    return step.tokens * per_token


def _mamba_state(specs: Specs) -> int | None:
    found = _ints(specs, "intermediate_size", "state_size", "conv_kernel")
    return None if found is None else found[0] * found[1] + found[0] * (found[2] - 1)


def _gdn_flops(specs: Specs, step: Step) -> int | None:
    found = _ints(
        specs, "hidden_size", "in_proj_out", "linear_num_value_heads", "linear_value_head_dim"
    )
    if found is None:
        return None
    hidden, in_proj, n_v, d_v = found
    return step.tokens * (2 * hidden * in_proj + 2 * hidden * 2 * n_v + 2 * n_v * d_v * hidden)


def _gdn_state(specs: Specs) -> int | None:
    found = _ints(
        specs,
        "linear_num_value_heads",
        "linear_key_head_dim",
        "linear_value_head_dim",
        "conv_channels",
        "conv_kernel",
    )
    if found is None:
        return None
    n_v, d_k, d_v, channels, kernel = found
    return n_v * d_k * d_v + channels * (kernel - 1)


def _state_cache(
    elements: Callable[[Specs], int | None],
) -> Callable[[Specs, int, int, float], float | None]:
    def cache(specs: Specs, batch: int, context: int, bytes_per_element: float) -> float | None:
        count = elements(specs)
        return None if count is None else batch * count * bytes_per_element

    return cache


# --------------------------------------------------------------------------- the registry

_ELEMENTWISE_NOTES = {
    "kv_bytes_per_token": "no cache of its own",
    "prefill_flops_one_token": "elementwise only: 0 matmul FLOPs",
}


def _elementwise(
    kind: str, values: Callable[[Specs], int | None], parameters: Callable[[Specs], int | None]
) -> GapFormula:
    """A part with no matmul: bias vectors, sink logits, norms."""
    return GapFormula(
        kind,
        parameters=parameters,
        flops=_no_matmul,
        cache_bytes=_no_cache,
        elementwise_values=values,
        notes=_ELEMENTWISE_NOTES,
    )


def _recurrent(
    kind: str,
    flops: Callable[[Specs, Step], int | None],
    state: Callable[[Specs], int | None],
    flops_note: str,
    state_note: str,
) -> GapFormula:
    """A mixer with a fixed recurrent state; its FLOPs formula counts the projections only."""
    return GapFormula(
        kind,
        parameters=_declared,
        flops=flops,
        flops_exact=False,
        cache_bytes=_state_cache(state),
        constant_state=True,
        notes={
            "matmul_flops_per_token_at_least": flops_note,
            "state_elements_per_sequence": state_note,
        },
    )


GAP_FORMULAS: dict[str, GapFormula] = {
    formula.kind: formula
    for formula in (
        GapFormula(
            "lm_head",
            parameters=_lm_head_parameters,
            flops=_lm_head_flops,
            cache_bytes=_no_cache,
            elementwise_values=_lm_head_bias_values,
            stand_ins=_lm_head_stand_ins,
            stand_in_note=(
                "exact at parallelism 1; under tensor parallelism it shards and communicates "
                "like an MLP, not a vocab-parallel LM head"
            ),
            notes={
                "kv_bytes_per_token": "no cache",
                "prefill_flops_one_token": "2 x H x V per token whose logits are computed",
                "decode_flops_context_4096": "2 x H x V: one new token, whatever the context",
            },
        ),
        _elementwise("attention_sinks", _sink_values, _declared),
        _elementwise("attention_bias", _attention_bias_parameters, _attention_bias_parameters),
        _elementwise("mlp_bias", _declared, _declared),
        _elementwise("moe_bias", _declared, _declared),
        _elementwise("qk_norm", _qk_norm_values, _declared),
        GapFormula(
            "gated_attention",
            parameters=_declared,
            flops=_gate_flops,
            cache_bytes=_no_cache,
            elementwise_values=_gate_width,
            notes={
                "kv_bytes_per_token": "the gate is not cached; the host attention holds the KV",
                "prefill_flops_one_token": "2 x H x gate width: the gate half of q_proj",
            },
        ),
        GapFormula(
            "shared_expert_gate",
            parameters=_declared,
            flops=_shared_gate_flops,
            cache_bytes=_no_cache,
            elementwise_values=lambda specs: _int(specs, "hidden_size"),
            notes={
                "kv_bytes_per_token": "no cache",
                "prefill_flops_one_token": "2 x H: a GEMV to one logit",
            },
        ),
        GapFormula(
            "multi_head_latent_attention",
            parameters=_declared,
            flops=_mla_flops,
            cache_bytes=_mla_cache,
            notes={
                "kv_bytes_per_token": "(kv_lora_rank + qk_rope_head_dim) x 2 bytes at bf16",
                "prefill_flops_one_token": "projections + naive attention over 1 key",
                "decode_flops_context_4096": "projections + absorbed attention over 4096 keys",
            },
        ),
        _recurrent(
            "mamba_mixer",
            _mamba_flops,
            _mamba_state,
            "in_proj + x_proj + dt_proj + out_proj; the conv and the scan are extra",
            "D x N (SSM) + D x (K - 1) (conv); not asserted",
        ),
        _recurrent(
            "gated_delta_net",
            _gdn_flops,
            _gdn_state,
            "in_proj_qkvz + in_proj_ba + out_proj; conv and recurrence are extra",
            "n_v x d_k x d_v + conv_channels x (K - 1); not asserted",
        ),
        GapFormula(
            "nonstandard_attention",
            parameters=_declared,
            cache_bytes=_attention_cache,
            notes={"kv_bytes_per_token": "2 x num_kv_heads x head_dim x 2 bytes at bf16"},
        ),
    )
}


def formula_for(gap_kind: str | None) -> GapFormula | None:
    """The registry record of a gap kind, or None when no formula is known."""
    return GAP_FORMULAS.get(gap_kind) if gap_kind else None


# --------------------------------------------------------------------------- stand-ins


@dataclass(frozen=True)
class StandIn:
    """A target class proven to compute a gap kind's component exactly at parallelism 1."""

    class_name: str
    specs: dict[str, Any]
    note: str


# The workloads a stand-in is compared at: (batch, prompt tokens) and (batch, cached tokens).
_PREFILL_POINTS = ((1, 1), (2, 16), (3, 1024))
_DECODE_POINTS = ((1, 1), (4, 17), (2, 4096))
_PROOF_DTYPE_BYTES = {"bf16": 2.0, "fp32": 4.0}


def stand_in_points() -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """The (batch, tokens) points a stand-in is compared at: prefill, then decode (cached)."""
    return _PREFILL_POINTS, _DECODE_POINTS


def _same_costs(layer: Layer, formula: GapFormula, specs: Specs, bytes_per_element: float) -> bool:
    """The layer's Mantile-named methods against the reference formula at every point."""
    if formula.parameters is None or formula.flops is None or formula.cache_bytes is None:
        return False
    parameters = formula.parameters(specs)
    if parameters is None or layer.parameter_count() != parameters:
        return False
    if layer.compute_weight_memory() != parameters * bytes_per_element:
        return False
    for batch, tokens in _PREFILL_POINTS:
        step = Step.prefill(batch, tokens)
        if layer.compute_flops(batch, tokens, Phase.PREFILL) != formula.flops(specs, step):
            return False
        if layer.compute_kv_cache(batch, tokens) != formula.cache_bytes(
            specs, batch, tokens, bytes_per_element
        ):
            return False
    for batch, cached in _DECODE_POINTS:
        # Mantile's decode: `cached` tokens in the cache, the new one attends them and itself.
        expected = formula.flops(specs, Step.decode(batch, cached + 1))
        if layer.compute_flops(batch, cached, Phase.DECODE) != expected:
            return False
    return True


def exact_stand_in(gap_kind: str | None, specs: Specs, target: LayerSet) -> StandIn | None:
    """The first candidate class of the target that reproduces the gap kind's formulas exactly.

    Each candidate is instantiated from the target's catalog formula (parallelism 1, bf16 and
    fp32) and compared with the reference formula: parameters, weight bytes, prefill and decode
    FLOPs and KV bytes at several (batch, tokens) points. None when no candidate is exact.
    """
    formula = formula_for(gap_kind)
    if formula is None or formula.stand_ins is None:
        return None
    for class_name, candidate in formula.stand_ins(specs):
        signature = target.get(class_name)
        if signature is None or target.layer(class_name, candidate) is None:
            continue
        exact = True
        for dtype, size in _PROOF_DTYPE_BYTES.items():
            layer = signature.build(candidate, dtype=dtype)
            if layer is None or not _same_costs(layer, formula, specs, size):
                exact = False
                break
        if exact:
            return StandIn(class_name, dict(candidate), formula.stand_in_note)
    return None
