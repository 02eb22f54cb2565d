"""google/gemma-2-9b: public facts, each with its source; claims with their scope."""

from harness import Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="google/gemma-2-9b",
    revision=None,
    facts={
        # checkpoint_params: not claimed: no citable recorded Hub safetensors total of this
        # repository: searched again for this exact repository (every readable version of
        # llmfit's hf_models.json; the code, docs and pages corpora for the id and for the dry
        # run's total 9,241,705,984) found only a test fixture holding a captured Hub API answer
        # for it (safetensors total 9,241,705,984, equal to the dry run) whose repository the
        # search does not name, and model-count tables (KerasHub presets) that are not Hub
        # totals; `harness checkpoint google/gemma-2-9b` (online) vendors checkpoint.json and
        # prints the claim.
        "total_params": Claim(
            9_242_164_736,
            scope='sum of Table 2 embedding + non-embedding; uses vocab 256128 (config 256000 gives 458,752 fewer)',
            source='https://arxiv.org/abs/2408.00118',
        ),
        "num_layers": Fact(42, source='https://arxiv.org/abs/2408.00118'),
        "hidden_size": Fact(3584, source='https://arxiv.org/abs/2408.00118'),
        "num_heads": Fact(16, source='https://arxiv.org/abs/2408.00118'),
        "num_kv_heads": Fact(8, source='https://arxiv.org/abs/2408.00118'),
        "head_dim": Fact(256, source='https://arxiv.org/abs/2408.00118'),
        "tied_embeddings": Fact(True, source='https://arxiv.org/abs/2408.00118'),
        "attention_kind": Fact('gqa', source='https://arxiv.org/abs/2408.00118', note='alternating local sliding window (4096) and global attention'),
        "mlp_kind": Fact('gated', source='https://arxiv.org/abs/2408.00118'),
        "norm_kind": Fact('rmsnorm', source='https://arxiv.org/abs/2408.00118'),
        "context_length": Fact(8192, source='https://arxiv.org/abs/2408.00118'),
    },
    sources=[
        'https://arxiv.org/abs/2408.00118',
    ],
    notes=(
        "Public figures not checked because they describe something else than the released config: "
        'vocab_size 256128 (https://arxiv.org/abs/2408.00118) vs 256000 in the dry run: DISAGREES with released config vocab_size 256000; Table 2 embedding params 917,962,752 = 256128 x 3584'
        "; intermediate_size 28672 (https://arxiv.org/abs/2408.00118) vs 14336 in the dry run: DISAGREES with config intermediate_size 14336: the paper's 'Feedforward dim' is 2 x 14336 (apparently counts the gate and up halves of the GeGLU together)"
    ),
)
