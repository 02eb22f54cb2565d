"""XiaomiMiMo/MiMo-V2-Flash: public facts, each with its source; claims with their scope.

Value heads narrower than query/key heads (`v_head_dim` 128, `head_dim` 192) and sliding-window
layers with their own KV heads (`swa_num_key_value_heads`): read from the config, no findings.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/XiaomiMiMo/MiMo-V2-Flash/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='XiaomiMiMo/MiMo-V2-Flash',
    revision=None,
    facts={
        'total_params': Claim(
            309_000_000_000,
            scope='total parameters as the model card rounds them (309B total, 15B active)',
            source='https://huggingface.co/XiaomiMiMo/MiMo-V2-Flash',
        ),
        'active_params': Claim(
            15_000_000_000,
            scope='activated parameters per token as the model card rounds them',
            source='https://huggingface.co/XiaomiMiMo/MiMo-V2-Flash',
            tolerance=0.04,
            reason='the card rounds to 15B; the dry run gives 15.45B per token, embedding and head included',
        ),
        'num_layers': Fact(48, source=CONFIG, note=PREFILLED),
        'hidden_size': Fact(4096, source=CONFIG, note=PREFILLED),
        'num_heads': Fact(64, source=CONFIG, note=PREFILLED),
        'num_kv_heads': Fact(4, source=CONFIG, note=PREFILLED),
        'head_dim': Fact(192, source=CONFIG, note=PREFILLED),
        'vocab_size': Fact(152576, source=CONFIG, note=PREFILLED),
        'intermediate_size': Fact(16384, source=CONFIG, note=PREFILLED),
        'moe_intermediate_size': Fact(2048, source=CONFIG, note=PREFILLED),
        'num_experts': Fact(256, source=CONFIG, note=PREFILLED),
        'experts_per_token': Fact(8, source=CONFIG, note=PREFILLED),
        'tied_embeddings': Fact(False, source=CONFIG, note=PREFILLED),
        'attention_kind': Fact('gqa', source=CONFIG, note=PREFILLED),
        'mlp_kind': Fact('moe', source=CONFIG, note=PREFILLED),
        'norm_kind': Fact('rmsnorm', source=CONFIG, note=PREFILLED),
        'context_length': Fact(262144, source=CONFIG, note=PREFILLED),
    },
    sources=[CONFIG],
)
