"""Qwen/Qwen3-30B-A3B: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="Qwen/Qwen3-30B-A3B",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            30_532_122_624,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/3fb10d019f828662a21619d282570cf32f0ff833/llmfit-core/data/hf_models.json',
        ),
        "total_params": Claim(
            30_500_000_000,
            scope='stated on the 2507 sibling card (same architecture: 48 layers, 32/4 heads, 128 experts, 8 active); the original Qwen3-30B-A3B card text was not found in the index',
            source='https://huggingface.co/Qwen/Qwen3-30B-A3B-Instruct-2507',
        ),
        "active_params": Claim(
            3_300_000_000,
            tolerance=0.02,
            scope='activated per token (sibling 2507 card)',
            source='https://huggingface.co/Qwen/Qwen3-30B-A3B-Instruct-2507',
            reason='the card rounds to 0.1B (3.3B); the dry run gives 3.35B per token including the embedding and head',
        ),
        "num_layers": Fact(48, source='https://arxiv.org/abs/2505.09388'),
        "num_heads": Fact(32, source='https://arxiv.org/abs/2505.09388'),
        "num_kv_heads": Fact(4, source='https://arxiv.org/abs/2505.09388'),
        "num_experts": Fact(128, source='https://arxiv.org/abs/2505.09388'),
        "experts_per_token": Fact(8, source='https://arxiv.org/abs/2505.09388', note="no shared experts: 'the Qwen3-MoE design excludes shared experts'"),
        "attention_kind": Fact('gqa', source='https://arxiv.org/abs/2505.09388', note='dense models use GQA; Table 2 gives 32 Q / 4 KV heads'),
        "mlp_kind": Fact('moe', source='https://arxiv.org/abs/2505.09388'),
        "norm_kind": Fact('rmsnorm', source='https://arxiv.org/abs/2505.09388'),
    },
    sources=[
        'https://arxiv.org/abs/2505.09388',
        'https://huggingface.co/Qwen/Qwen3-30B-A3B-Instruct-2507',
    ],
    notes=(
        "Public figures not checked because they describe something else than the released config: "
        'vocab_size 151669 (https://arxiv.org/abs/2505.09388) vs 151936 in the dry run: tokenizer size; config 151936 padded'
        '; context_length 131072 (https://arxiv.org/abs/2505.09388) vs 40960 in the dry run: 128K with YaRN; config max_position_embeddings 40960 (32K native)'
    ),
)
