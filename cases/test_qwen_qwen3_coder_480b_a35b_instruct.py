"""Qwen/Qwen3-Coder-480B-A35B-Instruct: public facts, each with its source; claims with their scope.

Its official config.json writes `"shared_expert_intermediate_size": 0` (no shared expert),
which transformers reads as absent.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/Qwen/Qwen3-Coder-480B-A35B-Instruct/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='Qwen/Qwen3-Coder-480B-A35B-Instruct',
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            480_154_875_392,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        'total_params': Claim(
            480_154_875_392,
            scope='whole model',
            source='hub safetensors.total (HF API) as scraped in AlexsJones/llmfit@a3e0eb2:llmfit-core/data/hf_models.json',
        ),
        'active_params': Claim(
            35_000_000_000,
            scope='activated parameters per token as the model card gives them (480B MoE, 35B active)',
            source='https://huggingface.co/Qwen/Qwen3-Coder-480B-A35B-Instruct',
            tolerance=0.02,
            reason='the card rounds to 35B; the dry run gives 35.47B per token, embedding and head included',
        ),
        'num_layers': Fact(62, source=CONFIG, note=PREFILLED),
        'hidden_size': Fact(6144, source=CONFIG, note=PREFILLED),
        'num_heads': Fact(96, source=CONFIG, note=PREFILLED),
        'num_kv_heads': Fact(8, source=CONFIG, note=PREFILLED),
        'head_dim': Fact(128, source=CONFIG, note=PREFILLED),
        'vocab_size': Fact(151936, source=CONFIG, note=PREFILLED),
        'intermediate_size': Fact(2560, source=CONFIG, note=PREFILLED),
        'moe_intermediate_size': Fact(2560, source=CONFIG, note=PREFILLED),
        'num_experts': Fact(160, source=CONFIG, note=PREFILLED),
        'experts_per_token': Fact(8, source=CONFIG, note=PREFILLED),
        'tied_embeddings': Fact(False, source=CONFIG, note=PREFILLED),
        'attention_kind': Fact('gqa', source=CONFIG, note=PREFILLED),
        'mlp_kind': Fact('moe', source=CONFIG, note=PREFILLED),
        'norm_kind': Fact('rmsnorm', source=CONFIG, note=PREFILLED),
        'context_length': Fact(262144, source=CONFIG, note=PREFILLED),
    },
    sources=[CONFIG],
)
