"""The gap kinds the coverage sweep found render their reports with their references."""

from __future__ import annotations

import pytest

from harness.catalog.registry import gap_kind
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
    record = gap_kind(kind)
    assert f"- Severity: **{record.severity.value}**" in text and record.references is not None
    for source in (*record.references.vllm, *record.references.sglang):
        assert f"| `{source.path}` | `{source.symbol}` |" in text
    for paper in record.references.papers:
        assert paper.url in text
