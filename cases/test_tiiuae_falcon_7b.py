"""tiiuae/falcon-7b: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="tiiuae/falcon-7b",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            7_217_189_760,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            expected_difference=295_469_056,
            reason='tied_head_stored +295,469,056: the tied LM head saved a second time as lm_head.weight (65,024 x 4,544)',
        ),
        "total_params": Claim(
            7_217_189_760,
            scope='hub safetensors total (HF API)',
            source='https://huggingface.co/tiiuae/falcon-7b (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
            expected_difference=295_469_056,
            reason='the checkpoint stores the tied LM head (65024 x 4544) as a separate tensor; the model ties it to the input embedding',
        ),
        "num_layers": Fact(32, source='https://huggingface.co/tiiuae/falcon-7b'),
        "hidden_size": Fact(4544, source='https://huggingface.co/tiiuae/falcon-7b'),
        "num_heads": Fact(71, source='https://huggingface.co/tiiuae/falcon-7b', note='4544/64 = 71'),
        "num_kv_heads": Fact(1, source='https://huggingface.co/tiiuae/falcon-7b', note='multi-query attention = a single shared K/V head'),
        "head_dim": Fact(64, source='https://huggingface.co/tiiuae/falcon-7b'),
        "vocab_size": Fact(65024, source='https://huggingface.co/tiiuae/falcon-7b'),
        "attention_kind": Fact('mqa', source='https://huggingface.co/tiiuae/falcon-7b'),
        "norm_kind": Fact('layernorm', source='https://huggingface.co/tiiuae/falcon-7b'),
        "context_length": Fact(2048, source='https://huggingface.co/tiiuae/falcon-7b'),
    },
    sources=[
        'https://huggingface.co/tiiuae/falcon-7b',
        'https://huggingface.co/tiiuae/falcon-7b (safetensors total, as scraped in https://github.com/AlexsJones/llmfit/blob/a3e0eb2/llmfit-core/data/hf_models.json)',
    ],
)
