"""ibm-granite/granite-3.1-8b-instruct: public facts, each with its source; claims with their scope."""

from harness import Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="ibm-granite/granite-3.1-8b-instruct",
    revision=None,
    facts={
        # checkpoint_params: not claimed: no recorded Hub safetensors total of this repository:
        # searched again for this exact repository (every readable version of llmfit's
        # hf_models.json; the code, docs and pages corpora for the id and for the dry run's
        # total 8,170,848,256) found only llmfit's early rounded 8,100,000,000; `harness
        # checkpoint ibm-granite/granite-3.1-8b-instruct` (online) vendors checkpoint.json and
        # prints the claim.
        "total_params": Claim(
            8_100_000_000,
            scope='rounded total (tied embeddings counted once)',
            source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct',
        ),
        "num_layers": Fact(40, source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct', note='card text seen via an index copy of the card (vendor name substituted)'),
        "hidden_size": Fact(4096, source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct'),
        "num_heads": Fact(32, source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct'),
        "num_kv_heads": Fact(8, source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct'),
        "head_dim": Fact(128, source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct'),
        "intermediate_size": Fact(12800, source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct', note='dense FFN width'),
        "tied_embeddings": Fact(True, source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct'),
        "attention_kind": Fact('gqa', source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct'),
        "mlp_kind": Fact('gated', source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct'),
        "norm_kind": Fact('rmsnorm', source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct'),
        "context_length": Fact(131072, source='https://huggingface.co/ibm-granite/granite-3.1-8b-instruct', note='128K'),
    },
    sources=[
        'https://huggingface.co/ibm-granite/granite-3.1-8b-instruct',
    ],
)
