"""google/gemma-3-1b-it: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="google/gemma-3-1b-it",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            999_885_952,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        "total_params": Claim(
            999_885_952,
            scope='hub safetensors total (HF API)',
            source='https://huggingface.co/google/gemma-3-1b-it (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
        ),
        "vocab_size": Fact(262144, source='https://arxiv.org/abs/2503.19786', note="'256k' = 262,144 (2^18); consistent with 1B embedding params 302M = 262,144 x 1152"),
        "norm_kind": Fact('rmsnorm', source='https://arxiv.org/abs/2503.19786'),
        "context_length": Fact(32768, source='https://arxiv.org/abs/2503.19786'),
    },
    sources=[
        'https://arxiv.org/abs/2503.19786',
        'https://huggingface.co/google/gemma-3-1b-it (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
    ],
    notes=(
        "Public figures not checked because they describe something else than the released config: "
        "attention_kind 'gqa' (https://arxiv.org/abs/2503.19786) vs 'mqa' in the dry run: config has 4 Q heads / 1 KV head, i.e. effectively MQA for the 1B size; report says GQA family-wide. 5:1 local(sliding)/global interleave"
    ),
)
