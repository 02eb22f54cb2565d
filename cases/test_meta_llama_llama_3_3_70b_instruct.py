"""meta-llama/Llama-3.3-70B-Instruct: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="meta-llama/Llama-3.3-70B-Instruct",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            70_553_706_496,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        "total_params": Claim(
            70_553_706_496,
            scope='hub safetensors total (HF API)',
            source='https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
        ),
        "num_layers": Fact(80, source='https://arxiv.org/abs/2407.21783', note="Llama 3 70B hyperparameters; Llama 3.3 70B reuses the Llama 3.1 70B architecture (card: 'optimized transformer architecture'), not restated in the 3.3 card"),
        "hidden_size": Fact(8192, source='https://arxiv.org/abs/2407.21783', note='Llama 3 70B column'),
        "num_heads": Fact(64, source='https://arxiv.org/abs/2407.21783', note='Llama 3 70B column'),
        "num_kv_heads": Fact(8, source='https://arxiv.org/abs/2407.21783', note='Llama 3 70B column'),
        "head_dim": Fact(128, source='https://arxiv.org/abs/2407.21783', note='8192/64'),
        "intermediate_size": Fact(28672, source='https://arxiv.org/abs/2407.21783', note='dense FFN width; Llama 3 70B column'),
        "attention_kind": Fact('gqa', source='https://github.com/meta-llama/llama-models/blob/main/models/llama3_3/MODEL_CARD.md'),
        "mlp_kind": Fact('gated', source='https://arxiv.org/abs/2407.21783'),
        "context_length": Fact(131072, source='https://github.com/meta-llama/llama-models/blob/main/models/llama3_3/MODEL_CARD.md', note='card says 128k'),
    },
    sources=[
        'https://arxiv.org/abs/2407.21783',
        'https://github.com/meta-llama/llama-models/blob/main/models/llama3_3/MODEL_CARD.md',
        'https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
    ],
    notes=(
        "Public figures not checked because they describe something else than the released config: "
        'vocab_size 128000 (https://arxiv.org/abs/2407.21783) vs 128256 in the dry run: config 128256 includes 256 special/reserved tokens'
    ),
)
