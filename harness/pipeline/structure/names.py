"""Module and projection names the structure rules recognise (`q_proj`, `mlp`, `embed_tokens`)."""

from __future__ import annotations

import re

__all__: list[str] = []


ATTENTION_BLOCKS = {"self_attn", "attention", "attn", "self_attention", "multi_head_attention"}
MLP_BLOCKS = {"mlp", "feed_forward", "block_sparse_moe", "ffn", "shared_mlp", "experts", "moe"}
CROSS_ATTENTION_BLOCKS = {
    "encoder_attn",
    "crossattention",
    "cross_attn",
    "encoder_decoder_attention",
}


MAMBA_BLOCKS = {"mamba", "mixer"}
LINEAR_ATTENTION_BLOCKS = {"linear_attn"}
EMBEDDING_NAMES = {
    "embed_tokens",
    "embed_in",
    "wte",
    "word_embeddings",
    "embeddings",
    "tok_embeddings",
    "tokens_embed",
}


POSITION_EMBEDDING_NAMES = {"wpe", "embed_positions", "position_embeddings", "positions_embed"}
TOKEN_TYPE_EMBEDDING_NAMES = {"token_type_embeddings", "segment_embedding", "segment_emb"}
LM_HEAD_NAMES = {"lm_head", "embed_out", "output"}


# Output heads named otherwise; a module counts only when its weight is [vocab, hidden] or tied.
_OTHER_HEAD_NAMES = {"decoder", "generator_lm_head", "lm_loss", "head"}
_Q = {"q_proj", "query", "wq", "query_proj", "Wq", "q", "q_lin", "project_q"}
_K = {"k_proj", "key", "wk", "key_proj", "Wk", "k", "k_lin", "project_k"}
_V = {"v_proj", "value", "wv", "value_proj", "Wv", "v", "v_lin", "project_v"}
_O = {
    "o_proj",
    "dense",
    "c_proj",
    "out_proj",
    "wo",
    "Wo",
    "output",
    "proj",
    "o",
    "out_lin",
    "attention_out",
    "projection",
}


_QKV = {"qkv_proj", "query_key_value", "c_attn", "Wqkv", "qkv", "in_proj"}
_MLA = {"q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj"}
_QK_NORMS = {"q_norm", "k_norm", "q_layernorm", "k_layernorm"}
_GATE = {"gate_proj", "w1", "wi_0", "w_0"}
_UP = {
    "up_proj",
    "w3",
    "c_fc",
    "dense_h_to_4h",
    "fc1",
    "fc_in",
    "intermediate",
    "linear_fc1",
    "layer_1",
    "wi",
    "Wi",
    "wi_1",
    "w_1",
    "lin1",
}


_DOWN = {
    "down_proj",
    "w2",
    "c_proj",
    "dense_4h_to_h",
    "fc2",
    "fc_out",
    "output",
    "output_linear",
    "linear_fc2",
    "layer_2",
    "wo",
    "Wo",
    "w_out",
    "lin2",
}


_GATE_UP = {"gate_up_proj", "input_linear"}


# Separate output-gate projections of gated attention (elementwise [n*d, H] or headwise [n, H]).
_ATTENTION_GATES = {"gate_proj", "g_proj", "output_gate"}


# Pass-through modules between a block and its projections (BERT's attention.self.query).
_WRAPPERS = {"self", "attention", "output"}


# Two layer-level blocks that together are one dense MLP: (up projection, down projection).
_SPLIT_MLPS = (
    ("fc1", "fc2"),
    ("intermediate", "output"),
    ("intermediate_query", "output_query"),
)


_NORM_NAME = re.compile(r"norm|(^|_)ln(_|\d|$)", re.IGNORECASE)


# Pass-through modules between a projection and its weight (Moshi's q_proj.linear.weight).
_INNER_WRAPPERS = {"linear"}


# Hyper-connection mixers around a sublayer or before the head (DeepSeek-V4's attn_hc, hc_head).
_HYPER_CONNECTION = re.compile(r"(^|_)(hc|hyper_connections?)($|_)")


# Per-layer input embeddings and their projections (Gemma 3n / Gemma 4).
_PER_LAYER_EMBEDDING = re.compile(r"^(per_layer_|embed_tokens_per_layer$)")


# A linear from the embedding width to the hidden size (ELECTRA, RemBERT).
EMBEDDING_PROJECTION_NAMES = {"embeddings_project", "embedding_hidden_mapping_in"}


# Containers whose `dense` transforms hidden states before the vocabulary projection (BERT).
_HEAD_TRANSFORM_PARENTS = {"transform", "lm_head", "generator_predictions", "predictions"}


# Learned lambdas of differential attention (DiffLlama).
_DIFFERENTIAL = re.compile(r"^lambda_[qk]\d$")
_ACTIVATIONS = {"act_fn", "act", "activation"}
_ROUTERS = {"gate", "router"}
_SHARED = {"shared_experts", "shared_expert", "shared_mlp"}
