"""deepseek-ai/DeepSeek-V3: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="deepseek-ai/DeepSeek-V3",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            684_531_386_000,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            expected_difference=13_504_981_648,
            reason='mtp_layers +13,464,128,568: 1 MTP layer(s) = 1 x decoder layer 60 (11,507,286,272) + enorm, hnorm, shared_head.norm, eh_proj, embed_tokens and shared_head.head copies (1,956,140,032) + block scales (702,264/layer); quantization_scales +40,838,232: FP8 block scales (128x128 blocks) of 604 quantized weights (669,065,609,216 elements), F32; saved_buffers +14,848: 58 persistent buffers saved with the weights (e_score_correction_bias), F32',
        ),
        "total_params": Claim(
            671_000_000_000,
            scope='main model, without the 11.5B MTP module',
            source='https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/8189242e56e9f275041c6490ce14c5afa82868be/README.md',
        ),
        "active_params": Claim(
            36_600_000_000,
            scope='activated per token, incl. the 0.9B output head (README_WEIGHTS)',
            source='https://huggingface.co/deepseek-ai/DeepSeek-V3-Base/commit/32950e40',
            expected_difference=-926_679_040,
            reason='DeepSeek counts the output head but not the input embedding table (129280 x 7168) as activated',
        ),
        "num_layers": Fact(61, source='https://arxiv.org/abs/2412.19437', note='main model; the MTP module (depth D=1) is an extra block not counted here'),
        "hidden_size": Fact(7168, source='https://arxiv.org/abs/2412.19437'),
        "num_heads": Fact(128, source='https://arxiv.org/abs/2412.19437'),
        "head_dim": Fact(128, source='https://arxiv.org/abs/2412.19437', note='no-RoPE part 128 + decoupled RoPE part 64 (qk head dim 192); value head dim 128'),
        "num_experts": Fact(256, source='https://arxiv.org/abs/2412.19437', note='routed experts; plus 1 shared expert'),
        "experts_per_token": Fact(8, source='https://arxiv.org/abs/2412.19437', note='8 routed + 1 shared'),
        "attention_kind": Fact('mla', source='https://arxiv.org/abs/2412.19437'),
        "mlp_kind": Fact('moe', source='https://arxiv.org/abs/2412.19437'),
        "norm_kind": Fact('rmsnorm', source='https://arxiv.org/abs/2412.19437', note='paper mentions RMSNorm for latent vectors; block norms are RMSNorm in released code'),
    },
    sources=[
        'https://arxiv.org/abs/2412.19437',
        'https://huggingface.co/deepseek-ai/DeepSeek-V3-Base/commit/32950e40',
        'https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/8189242e56e9f275041c6490ce14c5afa82868be/README.md',
    ],
    notes=(
        "Public figures not checked because they describe something else than the released config: "
        "vocab_size 128000 (https://arxiv.org/abs/2412.19437) vs 129280 in the dry run: '128K' rounded; config vocab_size 129280"
        "; intermediate_size 2048 (https://arxiv.org/abs/2412.19437) vs 18432 in the dry run: per-expert width (MoE); the first three layers are dense FFN ('We substitute all FFNs except for the first three layers with MoE layers'), dense width not stated in this passage"
        '; context_length 131072 (https://arxiv.org/abs/2412.19437) vs 163840 in the dry run: config max_position_embeddings 163840 (YaRN factor 40 over 4096)'
    ),
)
