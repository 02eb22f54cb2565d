"""nvidia/Nemotron-H-56B-Base-8K: public facts, each with its source; claims with their scope.

A hybrid Mamba/attention model (54 Mamba-2, 54 MLP and 10 attention `mixer` blocks, told apart
by their tensors). Its config.json holds `time_step_limit: [0.0, Infinity]`, as transformers
writes it.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/nvidia/Nemotron-H-56B-Base-8K/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='nvidia/Nemotron-H-56B-Base-8K',
    revision=None,
    facts={
        'total_params': Claim(
            56_000_000_000,
            scope='the 56B base model (54 Mamba-2, 54 MLP and 10 self-attention layers)',
            source='https://arxiv.org/abs/2504.03624',
        ),
        'num_layers': Fact(118, source=CONFIG, note=PREFILLED),
        'hidden_size': Fact(8192, source=CONFIG, note=PREFILLED),
        'num_heads': Fact(64, source=CONFIG, note=PREFILLED),
        'num_kv_heads': Fact(8, source=CONFIG, note=PREFILLED),
        'head_dim': Fact(128, source=CONFIG, note=PREFILLED),
        'vocab_size': Fact(131072, source=CONFIG, note=PREFILLED),
        'intermediate_size': Fact(32768, source=CONFIG, note=PREFILLED),
        'tied_embeddings': Fact(False, source=CONFIG, note=PREFILLED),
        'attention_kind': Fact('gqa', source=CONFIG, note=PREFILLED),
        'mlp_kind': Fact('plain', source=CONFIG, note=PREFILLED),
        'norm_kind': Fact('rmsnorm', source=CONFIG, note=PREFILLED),
        'context_length': Fact(8192, source=CONFIG, note=PREFILLED),
    },
    sources=[CONFIG],
)
