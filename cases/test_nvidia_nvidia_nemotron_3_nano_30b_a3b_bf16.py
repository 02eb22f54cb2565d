"""nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16: public facts, each with its source; claims with their scope.

A hybrid Mamba/attention/MoE model (23 Mamba-2, 23 MoE and 6 attention `mixer` blocks) with a
shared expert in every MoE block.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16',
    revision=None,
    facts={
        'total_params': Claim(
            31_577_937_344,
            scope='whole model (BF16 checkpoint)',
            source='hub safetensors.total (HF API) as scraped in AlexsJones/llmfit@a3e0eb2:llmfit-core/data/hf_models.json',
        ),
        'active_params': Claim(
            3_600_000_000,
            scope="'uses about 3.6 billion at a time' (31.6B total)",
            source='https://replicate.com/nvidia/nemotron-3-nano-30b-a3b/readme',
        ),
        'num_layers': Fact(52, source=CONFIG, note=PREFILLED),
        'hidden_size': Fact(2688, source=CONFIG, note=PREFILLED),
        'num_heads': Fact(32, source=CONFIG, note=PREFILLED),
        'num_kv_heads': Fact(2, source=CONFIG, note=PREFILLED),
        'head_dim': Fact(128, source=CONFIG, note=PREFILLED),
        'vocab_size': Fact(131072, source=CONFIG, note=PREFILLED),
        'intermediate_size': Fact(1856, source=CONFIG, note=PREFILLED),
        'moe_intermediate_size': Fact(1856, source=CONFIG, note=PREFILLED),
        'num_experts': Fact(128, source=CONFIG, note=PREFILLED),
        'experts_per_token': Fact(6, source=CONFIG, note=PREFILLED),
        'tied_embeddings': Fact(False, source=CONFIG, note=PREFILLED),
        'attention_kind': Fact('gqa', source=CONFIG, note=PREFILLED),
        'mlp_kind': Fact('moe', source=CONFIG, note=PREFILLED),
        'norm_kind': Fact('rmsnorm', source=CONFIG, note=PREFILLED),
        'context_length': Fact(262144, source=CONFIG, note=PREFILLED),
    },
    sources=[CONFIG],
)
