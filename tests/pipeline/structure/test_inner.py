"""Parts inside a block: norms inside attention and MLP, a sparse-attention indexer."""

from __future__ import annotations

from .conftest import HEADS, INTER, LAYERS, LLAMA_LIKE, TEXT_SIZES, H, build, entries, no_unknown


def test_norms_inside_attention_and_mlp_are_norm_entries() -> None:
    found = entries(build("bitnet", **LLAMA_LIKE))
    # two layer norms per layer, the final norm, and attn_sub_norm (width H) per layer
    assert (found["norm"].count, found["norm"].specs["hidden_size"]) == (3 * LAYERS + 1, H)
    assert (found["norm_2"].count, found["norm_2"].specs["hidden_size"]) == (LAYERS, INTER)
    assert found["attention"].supported and found["mlp"].supported


def test_a_sparse_attention_indexer_is_its_own_component() -> None:
    sizes = {
        **TEXT_SIZES,
        "num_key_value_heads": HEADS,
        "q_lora_rank": 32,
        "kv_lora_rank": 16,
        "qk_nope_head_dim": 16,
        "qk_rope_head_dim": 8,
        "v_head_dim": 16,
        "index_n_heads": 2,
        "index_head_dim": 16,
        "index_topk": 8,
        "first_k_dense_replace": LAYERS,
    }
    result = build("deepseek_v32", **sizes)
    found = entries(result)
    indexer = found["sparse_attention_indexer"]
    assert (indexer.gap_kind, indexer.count, indexer.specs["num_heads"]) == (
        "sparse_attention_indexer",
        LAYERS,
        2,
    )
    assert found["attention"].gap_kind == "multi_head_latent_attention"
    tensors = {t.name.split(".self_attn.")[1] for t in found["attention"].example_tensors}
    assert not any(name.startswith("indexer.") for name in tensors)
    no_unknown(result)
