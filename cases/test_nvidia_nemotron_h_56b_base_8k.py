"""nvidia/Nemotron-H-56B-Base-8K: public facts, each with its source; claims with their scope.

A hybrid Mamba/attention model (54 Mamba-2, 54 MLP and 10 attention `mixer` blocks, told apart
by their tensors). Its config.json holds `time_step_limit: [0.0, Infinity]`, as transformers
writes it.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/nvidia/Nemotron-H-56B-Base-8K/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='nvidia/Nemotron-H-56B-Base-8K',
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            96_099_893_248,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            unexplained=39_775_542_784,
            unexplained_reason="the recorded total is 1.71x the 56,324,350,464 the config builds; 39,775,542,784 (= 2^9 x 7331 x 10597) is no sum of this model's weight matrices (no combination of its MLP up/down, Mamba in/out, attention and embedding matrices adds up to it), and no header listing or per-dtype counts of this repository were found. The same scrape records nvidia/Nemotron-H-8B-Base-8K at 16,995,319,808, about 2.1x its nominal 8B, so the Hub's figure for these repositories counts more than one model's weights (a second checkpoint in the repository is a guess, not checked)",
        ),
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
