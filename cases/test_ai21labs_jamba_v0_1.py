"""ai21labs/Jamba-v0.1: public facts, each with its source; claims with their scope."""

from harness import Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="ai21labs/Jamba-v0.1",
    revision=None,
    facts={
        # checkpoint_params: not claimed: no recorded Hub safetensors total of this repository:
        # searched again for this exact repository (every readable version of llmfit's
        # hf_models.json; the code, docs and pages corpora for the id and for the dry run's
        # total 51,570,323,328) found none (llmfit lists only AI21-Jamba-Mini-1.5, whose total
        # equals this dry run); `harness checkpoint ai21labs/Jamba-v0.1` (online) vendors
        # checkpoint.json and prints the claim.
        "total_params": Claim(
            52_000_000_000,
            scope="rounded total (also paper: '12B active parameters, 52B total available parameters')",
            source='https://huggingface.co/ai21labs/Jamba-v0.1',
        ),
        "active_params": Claim(
            12_000_000_000,
            scope='rounded active',
            source='https://huggingface.co/ai21labs/Jamba-v0.1',
        ),
        "num_layers": Fact(32, source='https://arxiv.org/abs/2403.19887', note='4 blocks x 8 layers = 32 (4 attention + 28 Mamba layers, a:m = 1:7)'),
        "num_experts": Fact(16, source='https://arxiv.org/abs/2403.19887', note='MoE replaces the MLP every other layer (e = 2)'),
        "experts_per_token": Fact(2, source='https://arxiv.org/abs/2403.19887'),
        "mlp_kind": Fact('moe', source='https://huggingface.co/ai21labs/Jamba-v0.1', note='MoE on every other layer, dense MLP on the others; same text in transformers docs model_doc/jamba.md'),
        "context_length": Fact(262144, source='https://huggingface.co/ai21labs/Jamba-v0.1', note='256K = 262,144'),
    },
    sources=[
        'https://arxiv.org/abs/2403.19887',
        'https://huggingface.co/ai21labs/Jamba-v0.1',
    ],
)
