"""Qwen/Qwen3-Next-80B-A3B-Instruct: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="Qwen/Qwen3-Next-80B-A3B-Instruct",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            81_324_862_720,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            unexplained=1_650_471_424,
            unexplained_reason='the vendored config is reconstructed from the Thinking sibling and lacks mtp_num_hidden_layers; the recorded total includes one MTP layer: with mtp_num_hidden_layers=1 the remainder is exactly 0 (tests/test_checkpoint_records.py checks it)',
        ),
        "total_params": Claim(
            80_000_000_000,
            scope="main model, without the MTP layer (transformers builds none); rounded '80B'",
            source='https://github.com/huggingface/transformers/blob/main/docs/source/en/model_doc/qwen3_next.md',
        ),
        "num_layers": Fact(48, source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct', note='36 Gated DeltaNet (linear attention) layers + 12 gated full-attention layers'),
        "hidden_size": Fact(2048, source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct'),
        "num_heads": Fact(16, source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct', note='full-attention layers only; Gated DeltaNet layers have 32 V heads and 16 QK heads of dim 128'),
        "num_kv_heads": Fact(2, source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct', note='gated full-attention layers'),
        "head_dim": Fact(256, source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct', note='full-attention layers (DeltaNet head dim 128)'),
        "intermediate_size": Fact(512, source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct', note='per-expert width (MoE)'),
        "num_experts": Fact(512, source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct', note='plus 1 shared expert'),
        "experts_per_token": Fact(10, source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct', note='10 routed + 1 shared'),
        "attention_kind": Fact('gqa', source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct', note='GQA in the 12 gated-attention layers; the other 36 layers are Gated DeltaNet linear attention'),
        "mlp_kind": Fact('moe', source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct'),
        "context_length": Fact(262144, source='https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct'),
    },
    sources=[
        'https://github.com/huggingface/transformers/blob/main/docs/source/en/model_doc/qwen3_next.md',
        'https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct',
    ],
)
