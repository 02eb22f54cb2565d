"""openai/gpt-oss-120b: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="openai/gpt-oss-120b",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            120_412_337_472,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            expected_difference=3_583_180_800,
            reason='quantization_scales +3,583,180,800: MXFP4 E8M0 scales, one per 32 of 114,661,785,600 expert weights (U8)',
        ),
        "total_params": Claim(
            116_830_000_000,
            scope='logical parameter count (not MXFP4 storage elements)',
            source='https://arxiv.org/abs/2508.10925',
        ),
        "active_params": Claim(
            5_130_000_000,
            scope='active per token incl. unembedding, excl. embedding',
            source='https://arxiv.org/abs/2508.10925',
            expected_difference=-579_133_440,
            reason='the model card does not count the input embedding table (201088 x 2880) as active',
        ),
        "num_layers": Fact(36, source='https://arxiv.org/abs/2508.10925'),
        "hidden_size": Fact(2880, source='https://arxiv.org/abs/2508.10925'),
        "num_heads": Fact(64, source='https://arxiv.org/abs/2508.10925'),
        "num_kv_heads": Fact(8, source='https://arxiv.org/abs/2508.10925'),
        "head_dim": Fact(64, source='https://arxiv.org/abs/2508.10925'),
        "vocab_size": Fact(201088, source='https://arxiv.org/abs/2508.10925'),
        "num_experts": Fact(128, source='https://arxiv.org/abs/2508.10925'),
        "experts_per_token": Fact(4, source='https://arxiv.org/abs/2508.10925'),
        "tied_embeddings": Fact(False, source='https://arxiv.org/abs/2508.10925', note='1.16B = 2 x 201,088 x 2880, so embedding and unembedding are separate matrices'),
        "attention_kind": Fact('gqa', source='https://arxiv.org/abs/2508.10925', note='alternating banded-window (128 tokens) and dense layers; learned attention-sink bias per head'),
        "mlp_kind": Fact('moe', source='https://arxiv.org/abs/2508.10925', note='experts are gated (SwiGLU, with clamping and a residual connection)'),
        "norm_kind": Fact('rmsnorm', source='https://arxiv.org/abs/2508.10925'),
        "context_length": Fact(131072, source='https://arxiv.org/abs/2508.10925'),
    },
    sources=[
        'https://arxiv.org/abs/2508.10925',
    ],
)
