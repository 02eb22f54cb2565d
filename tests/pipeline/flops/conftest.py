"""Tiny configs for the FLOP cross-check, and the convention written by hand."""

from __future__ import annotations

from harness.api import build_model_config
from harness.pipeline.config import BuildResult
from harness.pipeline.flops import ComponentFlops, FlopsReport, cross_check

from ...conftest import TINY_LLAMA

# Tiny sizes shared by the configs below: H=64, h=4, h_kv=2, d_h=16, I=128, V=256.
H, HEADS, KV_HEADS, HEAD_DIM, INTER, VOCAB = 64, 4, 2, 16, 128, 256


D_Q, D_KV = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM


WINDOW = 16


TINY_MISTRAL = {
    **TINY_LLAMA,
    "architectures": ["MistralForCausalLM"],
    "model_type": "mistral",
    "sliding_window": WINDOW,
}


TINY_MIXTRAL = {
    **TINY_LLAMA,
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "num_local_experts": 4,
    "num_experts_per_tok": 2,
}


TINY_QWEN2 = {**TINY_LLAMA, "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}


def attention_flops(tokens: int, keys: int, batch: int = 1) -> int:
    """The convention by hand: Q, K, V, O projections, then QKᵀ and PV over all h heads."""
    projections = 2 * tokens * H * (D_Q + 2 * D_KV) + 2 * tokens * D_Q * H
    return projections + 2 * (2 * tokens * keys * HEADS * HEAD_DIM)


def build(write_config, config: dict, name: str = "model") -> BuildResult:
    return build_model_config(str(write_config(config, name)), offline=True)


def check(result: BuildResult, **options) -> FlopsReport:
    return cross_check(result.inspection.resolved, result.entries, **options)


def row(report: FlopsReport, name: str, phase: str = "prefill") -> ComponentFlops:
    return next(c for c in report.components if c.name == name and c.phase == phase)
