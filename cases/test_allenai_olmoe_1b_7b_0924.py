"""allenai/OLMoE-1B-7B-0924: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="allenai/OLMoE-1B-7B-0924",
    revision='c1b31da0c8e885c688902634d444982ca419aa33',
    facts={
        'checkpoint_params': CheckpointClaim(
            438_566_912,
            scope='hub safetensors total at c1b31da0c8e885c688902634d444982ca419aa33 (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            unexplained=-6_480_594_944,
            unexplained_reason='the recorded total (438,566,912) is 6% of the 6.92B the model builds; the sibling 0924-Instruct and 0125 records show 6,919,161,856 (= built), so this record is a broken scrape',
        ),
        "total_params": Claim(
            6_900_000_000,
            scope='rounded total (official repo README)',
            source='https://github.com/allenai/OLMoE/blob/main/README.md',
        ),
        "active_params": Claim(
            1_300_000_000,
            tolerance=0.04,
            scope='rounded active per token',
            source='https://github.com/allenai/OLMoE/blob/main/README.md',
            reason='the README rounds to 0.1B (1.3B covers 1.25B-1.35B, +/-3.8%)',
        ),
        "num_experts": Fact(64, source='https://huggingface.co/docs/transformers/model_doc/olmoe', note='transformers docs/source/en/model_doc/olmoe.md'),
        "experts_per_token": Fact(8, source='https://arxiv.org/abs/2409.02060', note='quote is from third-party papers citing OLMoE (found twice in the index); the OLMoE paper text itself was not opened'),
        "mlp_kind": Fact('moe', source='https://huggingface.co/docs/transformers/model_doc/olmoe'),
    },
    sources=[
        'https://arxiv.org/abs/2409.02060',
        'https://github.com/allenai/OLMoE/blob/main/README.md',
        'https://huggingface.co/docs/transformers/model_doc/olmoe',
    ],
)
