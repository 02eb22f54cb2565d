"""Qwen/Qwen3.5-27B: public facts, each with its source; claims with their scope.

An image-text hybrid: gated delta-net and gated attention text layers, a vision encoder as its
own part; the Hub total also holds the MTP layer transformers does not build.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/Qwen/Qwen3.5-27B/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='Qwen/Qwen3.5-27B',
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            27_781_427_952,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            expected_difference=424_699_392,
            reason='mtp_layers +424,699,392: 1 MTP layer(s) = 1 x decoder layer 63 (372,255,232) + fc, pre_fc_norm_embedding, pre_fc_norm_hidden, norm (52,444,160)',
        ),
        'total_params': Claim(
            27_781_427_952,
            scope='whole checkpoint as stored',
            source='hub safetensors.total (HF API) as scraped in AlexsJones/llmfit@a3e0eb2:llmfit-core/data/hf_models.json',
            expected_difference=424_699_392,
            reason='the Hub total also counts the multi-token-prediction layer (mtp_num_hidden_layers 1), which transformers does not build',
        ),
        'num_layers': Fact(64, source=CONFIG, note=PREFILLED),
        'hidden_size': Fact(5120, source=CONFIG, note=PREFILLED),
        'num_heads': Fact(24, source=CONFIG, note=PREFILLED),
        'num_kv_heads': Fact(4, source=CONFIG, note=PREFILLED),
        'head_dim': Fact(256, source=CONFIG, note=PREFILLED),
        'vocab_size': Fact(248320, source=CONFIG, note=PREFILLED),
        'intermediate_size': Fact(17408, source=CONFIG, note=PREFILLED),
        'tied_embeddings': Fact(False, source=CONFIG, note=PREFILLED),
        'attention_kind': Fact('gqa', source=CONFIG, note=PREFILLED),
        'mlp_kind': Fact('gated', source=CONFIG, note=PREFILLED),
        'norm_kind': Fact('rmsnorm', source=CONFIG, note=PREFILLED),
        'context_length': Fact(262144, source=CONFIG, note=PREFILLED),
    },
    sources=[CONFIG],
)
