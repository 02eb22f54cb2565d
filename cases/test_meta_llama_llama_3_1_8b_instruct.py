"""meta-llama/Llama-3.1-8B-Instruct: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="meta-llama/Llama-3.1-8B-Instruct",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            8_030_261_248,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        "total_params": Claim(
            8_030_261_248,
            scope='hub safetensors total (HF API)',
            source='https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
        ),
        "num_layers": Fact(32, source='https://arxiv.org/abs/2407.21783'),
        "hidden_size": Fact(4096, source='https://arxiv.org/abs/2407.21783'),
        "num_heads": Fact(32, source='https://arxiv.org/abs/2407.21783'),
        "num_kv_heads": Fact(8, source='https://arxiv.org/abs/2407.21783'),
        "head_dim": Fact(128, source='https://arxiv.org/abs/2407.21783', note='4096/32'),
        "intermediate_size": Fact(14336, source='https://arxiv.org/abs/2407.21783', note='dense FFN width'),
        "attention_kind": Fact('gqa', source='https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md'),
        "mlp_kind": Fact('gated', source='https://arxiv.org/abs/2407.21783'),
        "context_length": Fact(131072, source='https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md', note='card says 128k'),
    },
    sources=[
        'https://arxiv.org/abs/2407.21783',
        'https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md',
        'https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
    ],
    notes=(
        "Public figures not checked because they describe something else than the released config: "
        'vocab_size 128000 (https://arxiv.org/abs/2407.21783) vs 128256 in the dry run: config 128256 = 128,000 BPE + 256 special/reserved tokens'
    ),
)
