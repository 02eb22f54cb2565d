"""The gap kinds the coverage sweep found render their reports with their references."""

from __future__ import annotations

import pytest

from harness.gap_references import GAP_REFERENCES
from harness.gaps import generate_gap_files

from .conftest import BERT_LIKE, HEADS, INTER, LAYERS, H, V, build


@pytest.mark.parametrize("kind", ["cross_attention", "lm_head_transform"])
def test_reports_of_sweep_kinds_render_with_their_references(kind: str) -> None:
    sizes = {
        "d_model": H,
        "decoder_ffn_dim": INTER,
        "decoder_layers": LAYERS,
        "decoder_attention_heads": HEADS,
        "vocab_size": V,
        "max_position_embeddings": 32,
    }
    results = [build("bart", **sizes), build("bert", **BERT_LIKE)]
    text = generate_gap_files(results)[f"{kind}.md"]
    reference = GAP_REFERENCES[kind]
    assert f"- Severity: **{reference.severity}**" in text
    for path, symbol, _ in (*reference.vllm, *reference.sglang):
        assert f"| `{path}` | `{symbol}` |" in text
    for _, url in reference.papers:
        assert url in text
