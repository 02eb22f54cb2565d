"""Qwen/Qwen2.5-7B-Instruct: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="Qwen/Qwen2.5-7B-Instruct",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            7_615_616_512,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        "total_params": Claim(
            7_610_000_000,
            scope='total incl. untied embedding + lm_head; non-embedding 6.53B',
            source='https://huggingface.co/Qwen/Qwen2.5-7B-Instruct',
        ),
        "num_layers": Fact(28, source='https://arxiv.org/abs/2412.15115'),
        "num_heads": Fact(28, source='https://arxiv.org/abs/2412.15115'),
        "num_kv_heads": Fact(4, source='https://arxiv.org/abs/2412.15115'),
        "tied_embeddings": Fact(False, source='https://arxiv.org/abs/2412.15115'),
        "attention_kind": Fact('gqa', source='https://arxiv.org/abs/2412.15115'),
        "mlp_kind": Fact('gated', source='https://arxiv.org/abs/2412.15115', note='SwiGLU => gated FFN'),
        "norm_kind": Fact('rmsnorm', source='https://arxiv.org/abs/2412.15115'),
    },
    sources=[
        'https://arxiv.org/abs/2412.15115',
        'https://huggingface.co/Qwen/Qwen2.5-7B-Instruct',
    ],
    notes=(
        "Public figures not checked because they describe something else than the released config: "
        'vocab_size 151665 (https://arxiv.org/abs/2412.15115) vs 152064 in the dry run: 151,643 + 22 = 151,665 tokenizer entries; config vocab_size 152064 is the padded embedding-matrix size'
        '; context_length 131072 (https://huggingface.co/Qwen/Qwen2.5-7B-Instruct) vs 32768 in the dry run: report Table 1 says 128K / 8K; 131,072 needs YaRN rope_scaling, config max_position_embeddings is 32768'
    ),
)
