"""moonshotai/Kimi-K2-Instruct: public facts, each with its source; claims with their scope.

`model_type: kimi_k2` with Hub code in `auto_map`, but `architectures` names transformers'
own DeepseekV3ForCausalLM: built natively by opt-in (`native_class=True`), no Hub code run.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/moonshotai/Kimi-K2-Instruct/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='moonshotai/Kimi-K2-Instruct',
    revision=None,
    native_class=True,
    facts={
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
