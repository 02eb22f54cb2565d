"""deepseek-ai/DeepSeek-V3.2: public facts, each with its source; claims with their scope.

DeepSeek sparse attention: each layer's `self_attn.indexer` is its own component
(sparse_attention_indexer), apart from the MLA entry.
The config is vendored verbatim (see snapshot.json for its public copy); the structural facts
are read from it and cite it.
"""

from harness import CheckpointClaim, Claim, Fact, ModelCase

CONFIG = 'https://huggingface.co/deepseek-ai/DeepSeek-V3.2/blob/main/config.json'
PREFILLED = 'pre-filled by `harness add` from config.json'

CASE = ModelCase(
    hf_id='deepseek-ai/DeepSeek-V3.2',
    revision=None,
    facts={
        'checkpoint_params': CheckpointClaim(
            685_396_921_376,
            scope='hub safetensors total (recorded-scrape)',
            source='https://github.com/AlexsJones/llmfit/blob/a3e0eb27c57fe05298292f4c61699b9aed2824ea/llmfit-core/data/hf_models.json',
            expected_difference=13_518_992_160,
            reason='mtp_layers +13,478,088,816: 1 MTP layer(s) = 1 x decoder layer 60 (11,521,245,696) + enorm, hnorm, shared_head.norm, eh_proj, embed_tokens and shared_head.head copies (1,956,140,032) + block scales (703,088/layer); quantization_scales +40,888,496: FP8 block scales (128x128 blocks) of 726 quantized weights (669,889,134,592 elements), F32; saved_buffers +14,848: 58 persistent buffers saved with the weights (e_score_correction_bias), F32',
        ),
        'total_params': Claim(
            685_396_921_376,
            scope='whole checkpoint as stored',
            source='hub safetensors.total (HF API) as scraped in AlexsJones/llmfit@a3e0eb2:llmfit-core/data/hf_models.json',
            expected_difference=13_518_992_160,
            reason="the Hub total also counts the MTP module (num_nextn_predict_layers 1: one more decoder layer with its own indexer, which transformers does not build) and the FP8 checkpoint's scale tensors; it is 865,535,376 above DeepSeek-V3's stored total (684,531,386,000), the sparse-attention indexers of 61 + 1 layers",
        ),
        'active_params': Claim(
            37_000_000_000,
            scope='activated parameters per token as listed (active_parameters)',
            source='AlexsJones/llmfit@a3e0eb2:llmfit-core/data/hf_models.json (deepseek-ai/DeepSeek-V3.2)',
            tolerance=0.04,
            reason='a rounded figure; the dry run gives 38.40B per token, the 0.93B input embedding and the indexers included',
        ),
        'num_layers': Fact(61, source=CONFIG, note=PREFILLED),
        'hidden_size': Fact(7168, source=CONFIG, note=PREFILLED),
        'num_heads': Fact(128, source=CONFIG, note=PREFILLED),
        'head_dim': Fact(128, source=CONFIG, note=PREFILLED),
        'vocab_size': Fact(129280, source=CONFIG, note=PREFILLED),
        'intermediate_size': Fact(18432, source=CONFIG, note=PREFILLED),
        'moe_intermediate_size': Fact(2048, source=CONFIG, note=PREFILLED),
        'num_experts': Fact(256, source=CONFIG, note=PREFILLED),
        'experts_per_token': Fact(8, source=CONFIG, note=PREFILLED),
        'tied_embeddings': Fact(False, source=CONFIG, note=PREFILLED),
        'attention_kind': Fact('mla', source=CONFIG, note=PREFILLED),
        'mlp_kind': Fact('moe', source=CONFIG, note=PREFILLED),
        'norm_kind': Fact('rmsnorm', source=CONFIG, note=PREFILLED),
        'context_length': Fact(163840, source=CONFIG, note=PREFILLED),
    },
    sources=[CONFIG],
)
