"""databricks/dbrx-instruct: public facts, each with its source; claims with their scope.

A DBRX-style stacked-expert MoE: each layer's 16 experts are stored as one 2-D matrix per
projection ([16 x 10752, 6144] for `w1`, `v1`, `w2` in `ffn.experts.mlp`), the expert count comes
from the router's rows, and the attention sits in a `norm_attn_norm` block no name rule knows.
The config is a byte-for-byte copy of a public re-upload of this model (see snapshot.json for
where, and the copies it agrees with); the structural facts are read from it and cite it, and
the model card confirms the MoE layout (16 experts, 4 chosen), GQA and the 32K context.
"""

from harness import Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/databricks/dbrx-instruct/blob/main/config.json'
CARD = 'https://github.com/databricks/dbrx/blob/0edd966bd5fd37c998f94bca13eb78275c633a3d/MODEL_CARD_dbrx_instruct.md'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='databricks/dbrx-instruct',
    revision=None,
    facts={
        # checkpoint_params: not claimed: no exact recorded Hub safetensors total of this
        # repository was found (the llmfit scrape has no DBRX entry); the Open LLM Leaderboard's
        # request files record 'params': 131.597 for revision c0a9245908c187da8f43a81e538e67ff360904ea
        # (https://huggingface.co/datasets/open-llm-leaderboard/requests/blame/9135905e4a865eb51e40fa27ec30d599deb13342/databricks/dbrx-instruct_eval_request_False_bfloat16_Original.json),
        # which is round(safetensors total / 1e9, 3): consistent with the dry run's
        # 131,596,523,520 but not exact. `harness checkpoint databricks/dbrx-instruct` (online)
        # vendors checkpoint.json and prints the claim.
        'total_params': Claim(
            132_000_000_000,
            scope='total parameters as the model card rounds them (132B total, 36B active)',
            source=CARD,
        ),
        'active_params': Claim(
            36_000_000_000,
            scope='parameters active on any input, as the model card rounds them',
            source=CARD,
            tolerance=0.02,
            reason='the card rounds to 36B; the dry run gives 36.47B per token with the input embedding, 35.85B without',
        ),
        'num_layers': Fact(40, source=CONFIG, note=PREFILLED),
        'hidden_size': Fact(6144, source=CONFIG, note=PREFILLED),
        'num_heads': Fact(48, source=CONFIG, note=PREFILLED),
        'num_kv_heads': Fact(8, source=CONFIG, note=PREFILLED),
        'head_dim': Fact(128, source=CONFIG, note='d_model 6144 / n_heads 48'),
        'vocab_size': Fact(100352, source=CONFIG, note=PREFILLED),
        'intermediate_size': Fact(10752, source=CONFIG, note='ffn_config.ffn_hidden_size: the width of one expert'),
        'moe_intermediate_size': Fact(10752, source=CONFIG, note='ffn_config.ffn_hidden_size'),
        'num_experts': Fact(16, source=CARD, note="'DBRX has 16 experts and chooses 4'"),
        'experts_per_token': Fact(4, source=CARD, note="'DBRX has 16 experts and chooses 4'"),
        'tied_embeddings': Fact(False, source=CONFIG, note=PREFILLED),
        'attention_kind': Fact('gqa', source=CARD, note="'grouped query attention (GQA)'; 48 query heads on 8 KV heads"),
        'mlp_kind': Fact('moe', source=CARD, note="'fine-grained mixture-of-experts (MoE) architecture'"),
        'norm_kind': Fact('layernorm', source=CONFIG, note='transformers builds DBRX norms as LayerNorm without bias'),
    },
    sources=[CARD, CONFIG, 'https://www.databricks.com/blog/introducing-dbrx-new-state-art-open-llm'],
    notes=(
        "Public figures not checked because the dry run does not read them: "
        f"context_length 32768 ({CARD}: 'accepts a context length of up to 32768 tokens') is "
        "config max_seq_len 32768, a key the harness does not read as the context length"
    ),
)
