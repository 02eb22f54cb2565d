"""EleutherAI/pythia-6.9b: public facts, each with its source; claims with their scope."""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CASE = ModelCase(
    hf_id="EleutherAI/pythia-6.9b",
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            6_991_520_256,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            expected_difference=134_218_240,
            reason='legacy_buffers +134,218,240: 32 x (gpt_neox.layers.{}.attention.bias, gpt_neox.layers.{}.attention.rotary_emb.inv_freq) saved by an old checkpoint',
        ),
        "total_params": Claim(
            6_857_302_016,
            scope='exact total (same as facts.tsv)',
            source='https://huggingface.co/EleutherAI/pythia-6.9b',
        ),
        "num_layers": Fact(32, source='https://huggingface.co/EleutherAI/pythia-6.9b', note='same table as Pythia paper (arXiv 2304.01373) Table 1; card text seen via an index copy of a sibling Pythia card (identical table)'),
        "hidden_size": Fact(4096, source='https://huggingface.co/EleutherAI/pythia-6.9b'),
        "num_heads": Fact(32, source='https://huggingface.co/EleutherAI/pythia-6.9b'),
        "head_dim": Fact(128, source='https://huggingface.co/EleutherAI/pythia-6.9b', note='4096/32'),
        "vocab_size": Fact(50432, source='https://huggingface.co/EleutherAI/pythia-6.9b', note='total - non-embedding = 413,138,944 = 2 x 50,432 x 4096 (separate input embedding and output head)'),
        "tied_embeddings": Fact(False, source='https://huggingface.co/EleutherAI/pythia-6.9b', note='embedding-related params = 2 x vocab x d_model, i.e. untied'),
    },
    sources=[
        'https://huggingface.co/EleutherAI/pythia-6.9b',
    ],
)
