"""state-spaces/mamba-2.8b-hf: public facts, each with its source; claims with their scope."""

from harness import Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="state-spaces/mamba-2.8b-hf",
    revision=None,
    facts={
        # checkpoint_params: not claimed: no recorded Hub safetensors total of this repository:
        # searched again for this exact repository (every readable version of llmfit's
        # hf_models.json; the code, docs and pages corpora for the id and for the dry run's
        # total 2,768,345,600) found only parameter counts of the built model in third-party
        # scripts, not Hub totals; `harness checkpoint state-spaces/mamba-2.8b-hf` (online)
        # vendors checkpoint.json and prints the claim.
        "total_params": Claim(
            2_770_000_000,
            scope="'2.77B params' shown for the GGUF conversion of this model",
            source='https://huggingface.co/leliuga/mamba-2.8b-hf-GGUF',
        ),
        "num_layers": Fact(64, source='https://github.com/state-spaces/mamba/blob/main/README.md', note="official Mamba repo README (Pretrained Models table); mamba-2.8b-hf is the HF-format conversion of mamba-2.8b; README adds: 'The layer count of Mamba doubles that of a Transformer with similar size'"),
        "hidden_size": Fact(2560, source='https://github.com/state-spaces/mamba/blob/main/README.md'),
    },
    sources=[
        'https://github.com/state-spaces/mamba/blob/main/README.md',
        'https://huggingface.co/leliuga/mamba-2.8b-hf-GGUF',
    ],
    notes=(
        "Public figures not checked because they describe something else than the released config: "
        'intermediate_size 5120 (https://arxiv.org/abs/2312.00752) vs None in the dry run: inner (expanded) dimension E*D = 2 x 2560 = 5120; Mamba has no separate MLP/attention'
    ),
)
