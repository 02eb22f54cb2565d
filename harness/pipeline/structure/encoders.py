"""Vision, audio and other encoder parts: split off the text stack, read from their sub-config."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

from ..inventory import TensorKind, TensorRecord
from .attrs import Attrs, MlpAttrs, NoAttrs
from .blocks import _classify_block
from .inner import _norm_component
from .layers import _component_order, _layer_blocks, _layer_components
from .modules import _patch_attrs, _projector_attrs, _table_attrs
from .names import ATTENTION_BLOCKS, MLP_BLOCKS
from .records import Component, ComponentKind, Finding, Part
from .sizes import ConfigSizes, arch_value
from .tensors import _is_norm, _owner_class

__all__: list[str] = []


# Words in a module name (split at "_") that put it, outside the text stack, in another part.
_MODALITY_WORDS = {
    "vision": Part.VISION,
    "visual": Part.VISION,
    "image": Part.VISION,
    "img": Part.VISION,
    "vit": Part.VISION,
    "video": Part.VISION,
    "pixel": Part.VISION,
    "vqmodel": Part.VISION,
    "audio": Part.AUDIO,
    "speech": Part.AUDIO,
    "sound": Part.AUDIO,
    "protein": Part.PROTEIN,
}


# Modules that carry an encoder's output into the text stack, named for no modality.
_BRIDGES = {
    "multi_modal_projector",
    "mm_projector",
    "connector",
    "perceiver_resampler",
    "resampler",
    "qformer",
    "query_tokens",
    "language_projection",
    "embed_tokens_extend",
}


def _is_stack_name(name: str) -> bool:
    """A list of layers: `layers`, `h`, `blocks`, `layer`, `block`, `gated_cross_attn_layers`."""
    return name in {"h", "layer", "block"} or name.endswith(("layers", "blocks"))


# A bridge module joins the part of the encoder it serves (see _split_parts).
_BRIDGE: Literal["bridge"] = "bridge"


# Sub-config keys that describe each part, first match wins.
_PART_CONFIG_WORDS = {
    Part.VISION: ("vision", "visual", "image", "vit"),
    Part.AUDIO: ("audio", "speech", "encoder"),
    Part.PROTEIN: ("protein",),
}


def _part_of(name: str) -> tuple[Part | Literal["bridge"], str]:
    """The part a tensor belongs to and the module that roots it (`('vision', 'model.visual')`);
    only names above the text stack's layers count, so a layer's own `vision_moe` stays text.
    A parameter set directly on the model counts by its own name (BLIP-2's `query_tokens`)."""
    pieces = name.split(".")[:-1] or name.split(".")
    for position, piece in enumerate(pieces):
        if piece.isdigit() and position and _is_stack_name(pieces[position - 1]):
            break
        words = piece.lower().split("_")
        found: Part | Literal["bridge"] | None = next(
            (_MODALITY_WORDS[w] for w in words if w in _MODALITY_WORDS), None
        )
        if found is None and piece in _BRIDGES:
            found = _BRIDGE
        if found is not None:
            return found, ".".join(pieces[: position + 1])
    return Part.TEXT, ""


def _split_parts(
    tensors: Sequence[TensorRecord], config: dict[str, Any]
) -> tuple[list[TensorRecord], dict[Part, list[TensorRecord]]]:
    """The text stack's tensors, and every other part's (a projector joins the encoder it
    serves: the only one there is, else vision). An encoder-decoder whose encoder reads images
    (Pix2Struct, VisionEncoderDecoder: a vision sub-config, modules `encoder` and `decoder`)
    has its `encoder` as the vision part."""
    text: list[TensorRecord] = []
    parts: dict[Part, list[TensorRecord]] = {}
    bridges: list[TensorRecord] = []
    image_encoder = _image_encoder_root(tensors, config)
    for record in tensors:
        part = _part_of(record.name)[0]
        if image_encoder and record.name.startswith(f"{image_encoder}."):
            part = Part.VISION
        if part == _BRIDGE:
            bridges.append(record)
        elif part is Part.TEXT:
            text.append(record)
        else:
            parts.setdefault(part, []).append(record)
    if bridges:
        encoders = [part for part in parts if part is not Part.VISION]
        owner = encoders[0] if len(encoders) == 1 and Part.VISION not in parts else Part.VISION
        parts.setdefault(owner, []).extend(bridges)
    return text, parts


def _image_encoder_root(tensors: Sequence[TensorRecord], config: dict[str, Any]) -> str:
    """`encoder` (or `<root>.encoder`) when the model is an encoder-decoder whose encoder reads
    images, else ''."""
    if not (_part_config(config, Part.VISION) or _is_vision_config(config.get("encoder"))):
        return ""
    roots = {".".join(t.name.split(".")[:depth]) for t in tensors for depth in (1, 2)}
    for root in sorted(roots, key=len):
        if root.rpartition(".")[2] == "encoder" and f"{root[: -len('encoder')]}decoder" in roots:
            return root
    return ""


def _is_vision_config(value: Any) -> bool:
    """A sub-config of an image encoder: it states an image or patch size."""
    return isinstance(value, dict) and any(
        key in value for key in ("image_size", "patch_size", "num_channels")
    )


def _part_config(config: dict[str, Any], part: Part) -> dict[str, Any]:
    """The sub-config describing one part (`vision_config`, `audio_config` ..., or an
    encoder-decoder's image `encoder`), else {}."""
    words = _PART_CONFIG_WORDS.get(part, (part.value,))
    for word in words:
        for key in sorted(config):
            value = config[key]
            if key.endswith("_config") and word in key and isinstance(value, dict):
                return value
    encoder = config.get("encoder")
    if part is Part.VISION and _is_vision_config(encoder):
        return dict(encoder)
    return {}


def _part_arch(config: dict[str, Any], part: Part) -> ConfigSizes:
    """An encoder's sizes from its sub-config, as `_arch` gives the text stack's."""
    c = {
        key: value
        for key, value in _part_config(config, part).items()
        if not isinstance(value, list)  # sizes per stage (DaViT): read from the shapes instead
    }
    return ConfigSizes(
        hidden_size=arch_value(c, "hidden_size", "embed_dim", "width", "hidden_dim", "d_model"),
        num_layers=arch_value(c, "num_hidden_layers", "depth", "num_layers", "encoder_layers"),
        num_heads=arch_value(
            c, "num_attention_heads", "num_heads", "heads", "encoder_attention_heads"
        ),
        num_kv_heads=arch_value(c, "num_key_value_heads", "num_kv_heads"),
        head_dim=c.get("head_dim"),
    )


def _modality_components(
    part: Part, records: Sequence[TensorRecord], config: dict[str, Any], findings: list[Finding]
) -> list[Component]:
    """An encoder part: its layers by the same block rules as the text stack (sizes checked
    against its own sub-config), and its embeddings, norms and projector outside the layers."""
    arch = _part_arch(config, part)
    top_level: dict[str, list[TensorRecord]] = {}
    blocks = _layer_blocks(records, top_level)
    hidden = int(arch.hidden_size or _common_norm_width(records))
    depth = max((index for _, index, _ in blocks), default=-1) + 1
    layer_types = ("full_attention",) * depth
    components = _layer_components(blocks, arch, hidden, layer_types, findings, part)
    groups: dict[str, list[TensorRecord]] = {}
    for path, group in top_level.items():
        root = _part_of(group[0].name)[1] or path
        below = path[len(root) + 1 :].split(".")[0] if path != root else ""
        key = f"{root}.{below}" if below and root.rpartition(".")[2] not in _BRIDGES else root
        groups.setdefault(key, []).extend(group)
    for path, group in groups.items():
        found = _encoder_module(path, group, arch, hidden, findings)
        components.extend(replace(c, part=part) for c in _merged_projectors(path, found))
    return sorted(components, key=_component_order)


def _common_norm_width(records: Sequence[TensorRecord]) -> int:
    widths = [
        r.shape[0] for r in records if r.kind is TensorKind.PARAM and "Norm" in r.module_class
    ]
    return max(set(widths), key=widths.count) if widths else 0


def _encoder_module(
    path: str,
    records: Sequence[TensorRecord],
    arch: ConfigSizes,
    hidden: int,
    findings: list[Finding],
) -> list[Component]:
    """One module of an encoder outside its layers, split until each piece has a kind."""
    params = [r for r in records if r.kind is TensorKind.PARAM]
    module_class = _owner_class(records, path)
    leaf = path.rpartition(".")[2]
    if not params:
        return [Component(ComponentKind.BUFFERS, path, None, module_class, tuple(records))]
    if _is_norm(records) and len({r.module_path for r in params}) == 1:
        return [_norm_component(path, None, records)]
    below = [r for r in records if r.module_path.startswith(f"{path}.")]
    if leaf in ATTENTION_BLOCKS | MLP_BLOCKS and below:
        found = _classify_block(path, 0, leaf, list(records), arch, hidden, (), findings)
        return [_projector_unless_mlp(replace(c, layer_index=None)) for c in found]
    if not below:
        return _encoder_leaf(path, records, module_class)
    own = [r for r in records if not r.module_path.startswith(f"{path}.")]
    subs: dict[str, list[TensorRecord]] = {}
    for record in below:
        sub = record.module_path[len(path) + 1 :].split(".")[0]
        subs.setdefault(f"{path}.{sub}", []).append(record)
    found = _encoder_leaf(path, own, module_class) if own else []
    for sub_path, group in subs.items():
        found.extend(_encoder_module(sub_path, group, arch, hidden, findings))
    return found


def _encoder_leaf(path: str, records: Sequence[TensorRecord], module_class: str) -> list[Component]:
    """Tensors of one module: a patch embedding, a position table, learned tokens or a linear."""
    found = []
    lone = [r for r in records if r.kind is TensorKind.PARAM and r.leaf not in {"weight", "bias"}]
    layered = [r for r in records if r not in lone]
    for record in lone:  # parameters set directly on a module: class token, queries, positions
        kind = (
            ComponentKind.POSITION_EMBEDDING
            if "pos" in record.leaf.lower()
            else ComponentKind.LEARNED_EMBEDDING
        )
        found.append(
            Component(kind, record.name, None, module_class, (record,), _table_attrs([record]))
        )
    params = [r for r in layered if r.kind is TensorKind.PARAM]
    if not params:
        if layered:
            buffers = ComponentKind.BUFFERS
            found.append(Component(buffers, path, None, module_class, tuple(layered)))
        return found
    leaf = ".".join(path.split(".")[-2:]).lower()  # the module and its parent (patch_embedder)
    weight = next((r for r in params if r.leaf == "weight"), params[0])
    attrs: Attrs
    if module_class.startswith("Conv") or "patch" in leaf:
        kind, attrs = ComponentKind.PATCH_EMBEDDING, _patch_attrs(weight, params)
    elif module_class.endswith("Embedding") or "pos" in leaf:
        kind, attrs = ComponentKind.POSITION_EMBEDDING, _table_attrs([weight])
        if len(params) > 1:
            kind, attrs = ComponentKind.PROJECTOR, _projector_attrs(params)
    elif len(weight.shape) == 2:
        kind, attrs = ComponentKind.PROJECTOR, _projector_attrs(params)
    else:
        kind, attrs = ComponentKind.UNKNOWN, NoAttrs()
    found.append(Component(kind, path, None, module_class, tuple(layered), attrs))
    return found


def _projector_unless_mlp(component: Component) -> Component:
    """An encoder's MLP outside its layers that maps one width to another (a merger's
    Sequential of linears, 4H -> H_text) is its projector, not an MLP."""
    if component.kind is not ComponentKind.MLP:
        return component
    params = [t for t in component.tensors if t.kind is TensorKind.PARAM]
    attrs = _projector_attrs(params)
    mlp = component.attrs_as(MlpAttrs)
    if mlp.intermediate_size and attrs.in_features == attrs.out_features:
        return component
    return replace(component, kind=ComponentKind.PROJECTOR, attrs=attrs)


def _merged_projectors(path: str, components: Sequence[Component]) -> list[Component]:
    """The linear pieces of one module outside the layers are one projector (a merger's fc1
    and fc2, a projector's linear_1 and linear_2), one per item of a module list; norms and
    embeddings stay their own."""
    groups: dict[str, list[Component]] = {}
    rest: list[Component] = []
    for component in components:
        if component.kind is not ComponentKind.PROJECTOR:
            rest.append(component)
            continue
        below = component.path[len(path) + 1 :].split(".")
        item = below[0] if below and below[0].isdigit() else ""
        groups.setdefault(f"{path}.{item}" if item else path, []).append(component)
    for key, projectors in groups.items():
        if len(projectors) == 1:
            rest.append(projectors[0])
            continue
        tensors = tuple(t for c in projectors for t in c.tensors)
        params = [t for t in tensors if t.kind is TensorKind.PARAM]
        attrs = _projector_attrs(params)
        module_class = projectors[0].module_class
        rest.append(Component(ComponentKind.PROJECTOR, key, None, module_class, tensors, attrs))
    return rest
