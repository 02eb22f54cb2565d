"""microsoft/Phi-3-mini-4k-instruct: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="microsoft/Phi-3-mini-4k-instruct",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            3_821_079_552,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        "total_params": Claim(
            3_821_079_552,
            scope='hub safetensors total (HF API)',
            source='https://huggingface.co/microsoft/Phi-3-mini-4k-instruct (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
        ),
        "num_layers": Fact(32, source='https://arxiv.org/abs/2404.14219'),
        "hidden_size": Fact(3072, source='https://arxiv.org/abs/2404.14219'),
        "num_heads": Fact(32, source='https://arxiv.org/abs/2404.14219'),
        "head_dim": Fact(96, source='https://arxiv.org/abs/2404.14219', note='3072/32'),
        "vocab_size": Fact(32064, source='https://arxiv.org/abs/2404.14219'),
        "context_length": Fact(4096, source='https://arxiv.org/abs/2404.14219', note='4K'),
    },
    sources=[
        'https://arxiv.org/abs/2404.14219',
        'https://huggingface.co/microsoft/Phi-3-mini-4k-instruct (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
    ],
)
