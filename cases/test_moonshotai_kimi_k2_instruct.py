"""moonshotai/Kimi-K2-Instruct: public facts, each with its source; claims with their scope.

`model_type: kimi_k2` with Hub code in `auto_map`, but `architectures` names transformers'
own DeepseekV3ForCausalLM: built natively by opt-in (`native_class=True`), no Hub code run.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/moonshotai/Kimi-K2-Instruct/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='moonshotai/Kimi-K2-Instruct',
    revision=None,
    native_class=True,
    facts={
        'checkpoint_params': CheckpointClaim(
            1_026_470_731_056,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            expected_difference=62_518_232,
            reason='quantization_scales +62,495,192: FP8 block scales (128x128 blocks) of 608 quantized weights (1,023,893,241,856 elements), F32; saved_buffers +23,040: 60 persistent buffers saved with the weights (e_score_correction_bias), F32',
            unexplained=3_416,
            unexplained_reason="61 x 56 = 3,416: the checkpoint also stores every layer's self_attn.rotary_emb.inv_freq [56] (BF16), a buffer transformers neither builds as a parameter nor saves; a public header listing of this repository (139,644 tensors holding 1,026,470,731,056 elements, the recorded total; found through the project's code search, which does not name its repository) shows them for layers 0-60. No reconciliation term covers rotary buffers outside GPT-2/GPT-NeoX (legacy_buffers)",
        ),
        'total_params': Claim(
            1_026_470_731_056,
            scope='whole model as stored (block-FP8 checkpoint)',
            source='hub safetensors.total (HF API) as scraped in AlexsJones/llmfit@a3e0eb2:llmfit-core/data/hf_models.json',
        ),
        'active_params': Claim(
            32_000_000_000,
            scope='activated parameters per token as the model card gives them (1T total, 32B activated)',
            source='https://huggingface.co/moonshotai/Kimi-K2-Instruct',
            tolerance=0.03,
            reason='the card rounds to 32B; the dry run gives 32.86B per token, the 1.17B embedding table included',
        ),
        'num_layers': Fact(61, source=CONFIG, note=PREFILLED),
        'hidden_size': Fact(7168, source=CONFIG, note=PREFILLED),
        'num_heads': Fact(64, source=CONFIG, note=PREFILLED),
        'head_dim': Fact(128, source=CONFIG, note=PREFILLED),
        'vocab_size': Fact(163840, source=CONFIG, note=PREFILLED),
        'intermediate_size': Fact(18432, source=CONFIG, note=PREFILLED),
        'moe_intermediate_size': Fact(2048, source=CONFIG, note=PREFILLED),
        'num_experts': Fact(384, source=CONFIG, note=PREFILLED),
        'experts_per_token': Fact(8, source=CONFIG, note=PREFILLED),
        'tied_embeddings': Fact(False, source=CONFIG, note=PREFILLED),
        'attention_kind': Fact('mla', source=CONFIG, note=PREFILLED),
        'mlp_kind': Fact('moe', source=CONFIG, note=PREFILLED),
        'norm_kind': Fact('rmsnorm', source=CONFIG, note=PREFILLED),
        'context_length': Fact(131072, source=CONFIG, note=PREFILLED),
    },
    sources=[CONFIG],
)
