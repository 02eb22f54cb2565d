"""Qwen/Qwen3-VL-8B-Instruct: public facts, each with its source; claims with their scope.

An image-text model (Qwen family): its vision encoder (`model.visual.blocks.N`, 27 blocks) and
mergers are their own part, read from `vision_config`; the text stack keeps its 36 layers.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/Qwen/Qwen3-VL-8B-Instruct/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='Qwen/Qwen3-VL-8B-Instruct',
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            8_767_123_696,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
        ),
        'total_params': Claim(
            8_767_123_696,
            scope='whole model: the vision encoder with its mergers and the language model',
            source='hub safetensors.total (HF API) as scraped in AlexsJones/llmfit@a3e0eb2:llmfit-core/data/hf_models.json',
        ),
        'num_layers': Fact(36, source=CONFIG, note=PREFILLED),
        'hidden_size': Fact(4096, source=CONFIG, note=PREFILLED),
        'num_heads': Fact(32, source=CONFIG, note=PREFILLED),
        'num_kv_heads': Fact(8, source=CONFIG, note=PREFILLED),
        'head_dim': Fact(128, source=CONFIG, note=PREFILLED),
        'vocab_size': Fact(151936, source=CONFIG, note=PREFILLED),
        'intermediate_size': Fact(12288, source=CONFIG, note=PREFILLED),
        'tied_embeddings': Fact(False, source=CONFIG, note=PREFILLED),
        'attention_kind': Fact('gqa', source=CONFIG, note=PREFILLED),
        'mlp_kind': Fact('gated', source=CONFIG, note=PREFILLED),
        'norm_kind': Fact('rmsnorm', source=CONFIG, note=PREFILLED),
        'context_length': Fact(262144, source=CONFIG, note=PREFILLED),
    },
    sources=[CONFIG],
)
