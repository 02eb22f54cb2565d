"""mistralai/Mistral-7B-v0.1: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="mistralai/Mistral-7B-v0.1",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            7_241_732_096,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        "total_params": Claim(
            7_241_732_096,
            scope='hub safetensors total (HF API)',
            source='https://huggingface.co/mistralai/Mistral-7B-v0.1 (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
        ),
        "num_layers": Fact(32, source='https://arxiv.org/abs/2310.06825', note='Table 1 text checked against transcriptions (e.g. sumitdotml/transformers mistral-7b-v0.1/README.md), not the PDF itself'),
        "hidden_size": Fact(4096, source='https://arxiv.org/abs/2310.06825'),
        "num_heads": Fact(32, source='https://arxiv.org/abs/2310.06825'),
        "num_kv_heads": Fact(8, source='https://arxiv.org/abs/2310.06825'),
        "head_dim": Fact(128, source='https://arxiv.org/abs/2310.06825'),
        "vocab_size": Fact(32000, source='https://arxiv.org/abs/2310.06825'),
        "intermediate_size": Fact(14336, source='https://arxiv.org/abs/2310.06825', note='dense FFN width'),
        "attention_kind": Fact('gqa', source='https://arxiv.org/abs/2310.06825', note='sliding window 4096 (Table 1 window_size 4096)'),
    },
    sources=[
        'https://arxiv.org/abs/2310.06825',
        'https://huggingface.co/mistralai/Mistral-7B-v0.1 (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
    ],
    notes=(
        "Public figures not checked because they describe something else than the released config: "
        'context_length 8192 (https://arxiv.org/abs/2310.06825) vs 32768 in the dry run: trained context 8192; HF config max_position_embeddings 32768 (with 4096 sliding window)'
    ),
)
