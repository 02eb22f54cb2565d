"""nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16: public facts, each with its source; claims with their scope.

A hybrid Mamba/attention/MoE model (23 Mamba-2, 23 MoE and 6 attention `mixer` blocks) with a
shared expert in every MoE block.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16',
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            31_577_937_344,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            expected_difference=2_944,
            reason='saved_buffers +2,944: 23 persistent buffers saved with the weights (e_score_correction_bias), F32',
            unexplained=-2_944,
            unexplained_reason="the recorded total equals the built parameter count exactly, buffers excluded. The shards do hold the 23 mixer.gate.e_score_correction_bias buffers (F32 [128]; public notes on revision cbd3fa9f933d55ef16a84236559f4ee2a0526848 list them in shard 1), but the Hub reported the total its index declares: transformers' save_pretrained writes metadata.total_parameters = num_parameters(), parameters only (modeling_utils.py), and the Hub has used such a declared total as safetensors.total (https://github.com/huggingface/huggingface_hub/issues/4221, https://github.com/huggingface/hub-docs/issues/2704); the same notes quote this index's total_parameters as 31,577,937,344. So the record is the built count, not the header sum",
        ),
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
