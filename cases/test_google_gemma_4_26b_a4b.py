"""google/gemma-4-26B-A4B: public facts, each with its source; claims with their scope.

An image-text model (Gemma family) whose MoE layers keep `router` and `experts` directly in the
decoder layer beside a dense `mlp`; full-attention layers have their own head width
(`global_head_dim`, read through `per_layer_config`).
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/google/gemma-4-26B-A4B/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='google/gemma-4-26B-A4B',
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            26_544_131_376,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            expected_difference=738_197_504,
            reason='tied_head_stored +738,197,504: the tied LM head saved a second time as lm_head.weight (262,144 x 2,816)',
        ),
        'total_params': Claim(
            25_200_000_000,
            scope='language model, without the vision encoder',
            source='https://vast.ai/model/gemma-4-26b-a4b-it',
            expected_difference=-572_792_112,
            reason='the published 25.2B counts the language model; the dry run also builds the vision encoder and its projector (572,792,112 parameters, the vision_* entries), which the card describes separately (~550M)',
        ),
        'active_params': Claim(
            3_800_000_000,
            scope='activated per token by the language model (8 of 128 experts)',
            source='https://vast.ai/model/gemma-4-26b-a4b-it',
            expected_difference=-572_792_112,
            reason="the 3.8B counts the language model only; the dry run's active figure also includes the 572,792,112-parameter vision encoder and projector",
        ),
        'num_layers': Fact(30, source=CONFIG, note=PREFILLED),
        'hidden_size': Fact(2816, source=CONFIG, note=PREFILLED),
        'num_heads': Fact(16, source=CONFIG, note=PREFILLED),
        'num_kv_heads': Fact(8, source=CONFIG, note=PREFILLED),
        'head_dim': Fact(256, source=CONFIG, note=PREFILLED),
        'vocab_size': Fact(262144, source=CONFIG, note=PREFILLED),
        'intermediate_size': Fact(2112, source=CONFIG, note=PREFILLED),
        'moe_intermediate_size': Fact(704, source=CONFIG, note=PREFILLED),
        'num_experts': Fact(128, source=CONFIG, note=PREFILLED),
        'experts_per_token': Fact(8, source=CONFIG, note=PREFILLED),
        'tied_embeddings': Fact(True, source=CONFIG, note=PREFILLED),
        'attention_kind': Fact('gqa', source=CONFIG, note=PREFILLED),
        'mlp_kind': Fact('moe', source=CONFIG, note=PREFILLED),
        'norm_kind': Fact('rmsnorm', source=CONFIG, note=PREFILLED),
        'context_length': Fact(262144, source=CONFIG, note=PREFILLED),
    },
    sources=[CONFIG],
)
