"""TinyLlama/TinyLlama-1.1B-Chat-v1.0: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            1_100_048_384,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        "total_params": Claim(
            1_100_048_384,
            scope='hub safetensors total (HF API)',
            source='https://huggingface.co/TinyLlama/TinyLlama-1.1B-Chat-v1.0 (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
        ),
        "num_layers": Fact(22, source='https://github.com/jzhang38/TinyLlama/blob/main/README.md', note='official TinyLlama repo training-details table (base model; Chat-v1.0 is a fine-tune of the 3T-token base)'),
        "hidden_size": Fact(2048, source='https://github.com/jzhang38/TinyLlama/blob/main/README.md'),
        "num_heads": Fact(32, source='https://github.com/jzhang38/TinyLlama/blob/main/README.md'),
        "num_kv_heads": Fact(4, source='https://github.com/jzhang38/TinyLlama/blob/main/README.md', note='4 query groups = 4 KV heads'),
        "head_dim": Fact(64, source='https://github.com/jzhang38/TinyLlama/blob/main/README.md', note='2048/32'),
        "intermediate_size": Fact(5632, source='https://github.com/jzhang38/TinyLlama/blob/main/README.md', note='dense FFN width'),
        "attention_kind": Fact('gqa', source='https://github.com/jzhang38/TinyLlama/blob/main/README.md'),
        "mlp_kind": Fact('gated', source='https://github.com/jzhang38/TinyLlama/blob/main/README.md'),
        "context_length": Fact(2048, source='https://github.com/jzhang38/TinyLlama/blob/main/README.md'),
    },
    sources=[
        'https://github.com/jzhang38/TinyLlama/blob/main/README.md',
        'https://huggingface.co/TinyLlama/TinyLlama-1.1B-Chat-v1.0 (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
    ],
)
