"""meta-llama/Llama-3.2-1B: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="meta-llama/Llama-3.2-1B",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            1_235_814_400,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        "total_params": Claim(
            1_235_814_400,
            scope='hub safetensors total (HF API)',
            source='https://huggingface.co/meta-llama/Llama-3.2-1B (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
        ),
        "tied_embeddings": Fact(True, source='https://github.com/meta-llama/llama-models/blob/main/models/llama3_2/MODEL_CARD.md'),
        "attention_kind": Fact('gqa', source='https://github.com/meta-llama/llama-models/blob/main/models/llama3_2/MODEL_CARD.md'),
        "context_length": Fact(131072, source='https://github.com/meta-llama/llama-models/blob/main/models/llama3_2/MODEL_CARD.md', note='128k (quantized variants 8k)'),
    },
    sources=[
        'https://github.com/meta-llama/llama-models/blob/main/models/llama3_2/MODEL_CARD.md',
        'https://huggingface.co/meta-llama/Llama-3.2-1B (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
    ],
)
