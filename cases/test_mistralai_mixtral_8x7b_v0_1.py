"""mistralai/Mixtral-8x7B-v0.1: public facts, each with its source; claims with their scope."""

from harness import Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="mistralai/Mixtral-8x7B-v0.1",
    revision=None,
    facts={
        # checkpoint_params: not claimed: no recorded Hub safetensors total of this repository:
        # searched again for this exact repository (every readable version of llmfit's
        # hf_models.json; the code, docs and pages corpora for the id and for the dry run's
        # total 46,702,792,704) found it only for Mixtral-8x7B-Instruct-v0.1 (46,702,792,704,
        # equal to this dry run) and in model-count tables (KerasHub presets) that are not Hub
        # totals; `harness checkpoint mistralai/Mixtral-8x7B-v0.1` (online) vendors
        # checkpoint.json and prints the claim.
        "total_params": Claim(
            47_000_000_000,
            scope='rounded total',
            source='https://arxiv.org/abs/2401.04088',
        ),
        "active_params": Claim(
            13_000_000_000,
            scope='rounded active per token',
            source='https://arxiv.org/abs/2401.04088',
        ),
        "num_layers": Fact(32, source='https://arxiv.org/abs/2401.04088', note='Table 1 values checked against transcriptions of the paper, not the PDF itself'),
        "hidden_size": Fact(4096, source='https://arxiv.org/abs/2401.04088'),
        "num_heads": Fact(32, source='https://arxiv.org/abs/2401.04088'),
        "num_kv_heads": Fact(8, source='https://arxiv.org/abs/2401.04088'),
        "head_dim": Fact(128, source='https://arxiv.org/abs/2401.04088'),
        "vocab_size": Fact(32000, source='https://arxiv.org/abs/2401.04088'),
        "intermediate_size": Fact(14336, source='https://arxiv.org/abs/2401.04088', note='per-expert FFN width (MoE)'),
        "num_experts": Fact(8, source='https://arxiv.org/abs/2401.04088'),
        "experts_per_token": Fact(2, source='https://arxiv.org/abs/2401.04088'),
        "attention_kind": Fact('gqa', source='https://arxiv.org/abs/2401.04088', note='8 KV heads shared by 32 query heads'),
        "mlp_kind": Fact('moe', source='https://arxiv.org/abs/2401.04088'),
        "context_length": Fact(32768, source='https://arxiv.org/abs/2401.04088', note='Table 1 context_len 32768'),
    },
    sources=[
        'https://arxiv.org/abs/2401.04088',
    ],
)
