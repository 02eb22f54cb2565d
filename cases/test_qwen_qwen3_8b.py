"""Qwen/Qwen3-8B: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="Qwen/Qwen3-8B",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            8_190_735_360,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        "total_params": Claim(
            8_190_735_360,
            scope='hub safetensors total (HF API)',
            source='https://huggingface.co/Qwen/Qwen3-8B (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
        ),
        "num_layers": Fact(36, source='https://arxiv.org/abs/2505.09388'),
        "num_heads": Fact(32, source='https://arxiv.org/abs/2505.09388'),
        "num_kv_heads": Fact(8, source='https://arxiv.org/abs/2505.09388'),
        "tied_embeddings": Fact(False, source='https://arxiv.org/abs/2505.09388'),
        "attention_kind": Fact('gqa', source='https://arxiv.org/abs/2505.09388'),
        "mlp_kind": Fact('gated', source='https://arxiv.org/abs/2505.09388'),
        "norm_kind": Fact('rmsnorm', source='https://arxiv.org/abs/2505.09388'),
    },
    sources=[
        'https://arxiv.org/abs/2505.09388',
        'https://huggingface.co/Qwen/Qwen3-8B (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
    ],
    notes=(
        "Public figures not checked because they describe something else than the released config: "
        'vocab_size 151669 (https://arxiv.org/abs/2505.09388) vs 151936 in the dry run: tokenizer size; config vocab_size 151936 is the padded embedding size'
        "; context_length 131072 (https://arxiv.org/abs/2505.09388) vs 40960 in the dry run: model card: '32,768 natively and 131,072 tokens with YaRN'; config max_position_embeddings 40960"
    ),
)
