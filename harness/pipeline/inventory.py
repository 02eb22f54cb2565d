"""Step 2, inspect: build a model on the meta device and inventory every parameter and buffer."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..dtypes import DTYPE_BYTES, bytes_per_element
from ..enums import StrEnum
from ..errors import (
    InvalidConfigError,
    ModelBuildError,
    RemoteCodeRefusedError,
    UnknownModelTypeError,
)
from ..limits import check_built_config, check_config_values, check_inventory
from .resolve import ConfigSource, ResolvedConfig, is_pinned_revision, sha256_of

__all__ = [
    "DECODER_LAYERS",
    "LAYER_STACKS",
    "Inspection",
    "MemoryEstimate",
    "RecordAccess",
    "TensorKind",
    "TensorRecord",
    "build_meta_model",
    "count_decoder_layers",
    "estimate_memory",
    "estimate_memory_all",
    "format_count",
    "inspect_config",
    "inspect_resolved",
    "layer_index_of",
    "parameter_total",
    "quiet_transformers",
    "validate_config",
]

# Keys that describe storage or remote code, not the architecture; dropped before building.
_STORAGE_KEYS = ("quantization_config",)
# The names transformers gives a model's list of decoder layers (`model.layers.3`, GPT-2's `h.3`,
# `blocks.3`, BERT's `layer.3`): written here once; each step compiles it into what it matches.
DECODER_LAYERS = r"(?:layers|h|blocks|layer)"
# Every numbered stack the structure step groups, an encoder's too (`encoder_layers.3`, `block.3`).
LAYER_STACKS = r"(?:\w*layers|h|\w*blocks|layer|block)"
_LAYER_INDEX = re.compile(rf"\.{DECODER_LAYERS}\.(\d+)\.")


class RecordAccess:
    """Lets seed-style code read record fields as `record["field"]`."""

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


class TensorKind(StrEnum):
    """What a tensor of the dry run is: a parameter (counted) or a buffer (reported only)."""

    PARAM = "param"
    BUFFER = "buffer"


@dataclass(frozen=True)
class TensorRecord(RecordAccess):
    """A dry-run parameter or buffer: kind, name, shape, dtype, owning module class, aliases."""

    kind: TensorKind
    name: str
    shape: tuple[int, ...]
    dtype: str
    module_class: str = ""
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Seed-style code and old callers pass "param" / "buffer": hold the member either way.
        object.__setattr__(self, "kind", TensorKind(self.kind))

    @property
    def numel(self) -> int:
        """Number of elements."""
        total = 1
        for size in self.shape:
            total *= size
        return total

    @property
    def module_path(self) -> str:
        """Dotted path of the module that owns the tensor."""
        return self.name.rpartition(".")[0]

    @property
    def leaf(self) -> str:
        """Attribute name of the tensor on its module (`weight`, `bias`, `sinks` ...)."""
        return self.name.rpartition(".")[2]


@dataclass(frozen=True)
class Inspection(RecordAccess):
    """The full inventory of one model built on the meta device, with the config it came from."""

    model: str
    model_class: str
    model_type: str
    tensors: tuple[TensorRecord, ...]
    config: dict[str, Any]  # the transformers config as a dict, defaults filled in
    resolved: ResolvedConfig
    versions: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def params(self) -> tuple[TensorRecord, ...]:
        """Parameters only (tied weights appear once)."""
        return tuple(t for t in self.tensors if t.kind is TensorKind.PARAM)

    @property
    def buffers(self) -> tuple[TensorRecord, ...]:
        """Buffers only; reported, never counted as parameters."""
        return tuple(t for t in self.tensors if t.kind is TensorKind.BUFFER)

    @property
    def total_params(self) -> int:
        """Exact parameter count, tied weights counted once."""
        return sum(t.numel for t in self.params)

    @property
    def hf_id(self) -> str | None:
        """The Hub id when the config came from one."""
        return self.resolved.hf_id

    def tensor(self, name: str) -> TensorRecord:
        """The record named `name` (canonical name or alias)."""
        for record in self.tensors:
            if record.name == name or name in record.aliases:
                return record
        raise KeyError(name)


@dataclass(frozen=True)
class MemoryEstimate(RecordAccess):
    """Weight memory of the parameters at one dtype, in bytes and decimal GB."""

    dtype: str
    bytes: float
    gb: float


def format_count(value: int) -> str:
    """Short human form of a count: 70553706496 -> '70.6B', 124439808 -> '124.4M'."""
    for scale, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(value) >= scale:
            return f"{value / scale:.1f}{suffix}"
    return str(value)


def layer_index_of(name: str) -> int | None:
    """Decoder-layer index in a tensor or module name (`model.layers.12.mlp` -> 12), else None."""
    match = _LAYER_INDEX.search(f".{name}.")
    return int(match.group(1)) if match else None


def inspect_config(
    config: dict[str, Any], *, model: str | None = None, text_stack: bool = False
) -> Inspection:
    """Build a model from a config dict held in memory (what a config.json holds) on meta."""
    text = json.dumps(config, sort_keys=True, default=str)
    resolved = ResolvedConfig(
        model=model or str(config.get("model_type") or "<memory>"),
        config=dict(config),
        source=ConfigSource.MEMORY,
        sha256=sha256_of(text.encode("utf-8")),
    )
    return inspect_resolved(resolved, text_stack=text_stack)


def inspect_resolved(
    resolved: ResolvedConfig,
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
    text_stack: bool = False,
) -> Inspection:
    """Build the model of an already resolved config on the meta device and inventory it.

    With `text_stack`, keep only the language model and its output head (a vision-language
    model's towers and projector are left out, and a note says how many parameters they hold).
    """
    import torch
    import transformers

    module, hf_config, notes = _build_meta(resolved, trust_remote_code, revision)
    tensors = tuple(_inventory(module))
    if text_stack:
        tensors, stack_notes = _text_stack(module, tensors)
        notes += stack_notes
    check_inventory(tensors, where=resolved.display_path)
    return Inspection(
        model=resolved.model,
        model_class=type(module).__name__,
        model_type=str(hf_config.model_type),
        tensors=tensors,
        config=_config_dict(hf_config),
        resolved=resolved,
        versions={"transformers": transformers.__version__, "torch": torch.__version__},
        notes=tuple(notes),
    )


def build_meta_model(
    resolved: ResolvedConfig,
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
) -> Any:
    """The model of a resolved config built on the meta device (no weights), as inspected."""
    return _build_meta(resolved, trust_remote_code, revision)[0]


def _build_meta(
    resolved: ResolvedConfig, trust_remote_code: bool, revision: str | None
) -> tuple[Any, Any, list[str]]:
    import torch
    import transformers

    hf_config, notes = _build_config(resolved, trust_remote_code, revision or resolved.revision)
    build, class_name, class_note = _model_builder(resolved, hf_config)
    notes += class_note
    with quiet_transformers(), torch.device("meta"):
        try:
            module = build(hf_config)
        except Exception as exc:  # transformers raises many types for bad configs
            raise ModelBuildError(
                f"transformers {transformers.__version__} could not build {class_name} for "
                f"{resolved.model} on the meta device: {type(exc).__name__}: "
                f"{_first_line(exc)}; check the config values"
            ) from None
    return module, hf_config, notes


def _build_config(
    resolved: ResolvedConfig, trust_remote_code: bool, revision: str | None
) -> tuple[Any, list[str]]:
    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    raw = dict(resolved.config)
    where = resolved.display_path
    notes: list[str] = []
    model_type = raw.pop("model_type", None)
    if not isinstance(model_type, str) or not model_type:
        raise InvalidConfigError(
            f"{where} has no `model_type`; add the transformers model type "
            '(for example "model_type": "llama") or download the full config.json'
        )
    architectures = raw.get("architectures")
    if (
        not isinstance(architectures, list)
        or not architectures
        or not all(isinstance(a, str) for a in architectures)
    ):
        raise InvalidConfigError(
            f"{where} has no `architectures` list; add the model class, for example "
            '"architectures": ["LlamaForCausalLM"]'
        )
    auto_map = raw.pop("auto_map", None)
    if raw.pop("trust_remote_code", None) is not None:
        notes.append("trust_remote_code in the config ignored: only the caller can opt in")
    native = _native_config_class(architectures[0])
    if model_type not in CONFIG_MAPPING and auto_map is not None and resolved.native_class:
        if native is None:
            raise RemoteCodeRefusedError(
                f"{resolved.model}: native build requested, but architectures[0] "
                f"{architectures[0]!r} is not a class of transformers "
                f"{transformers.__version__}; only Hub code builds this model (see "
                "--trust-remote-code)"
            )
        notes.append(
            f"built natively: {architectures[0]} of transformers {transformers.__version__} "
            f"(model_type {model_type!r} read as {native.model_type!r}); the Hub code "
            "auto_map names was not used (--native-class)"
        )
        model_type = native.model_type
    if model_type not in CONFIG_MAPPING:
        if auto_map is not None:
            if not trust_remote_code or not is_pinned_revision(revision):
                hint = (
                    f"; or, since architectures[0] {architectures[0]} is a transformers class, "
                    "build it natively with --native-class (native_class=True in the case)"
                    if native is not None
                    else ""
                )
                raise RemoteCodeRefusedError(
                    f"{resolved.model} needs code from the Hub (`auto_map`, model_type "
                    f"{model_type!r} is not in transformers {transformers.__version__}); it is "
                    "never run implicitly: set trust_remote_code=True in the case (or pass "
                    "--trust-remote-code) together with a pinned 40-hex revision (--revision) "
                    f"after reviewing that code{hint}"
                )
            if resolved.hf_id is None:
                raise RemoteCodeRefusedError(
                    f"{where} needs code from `auto_map`, and for a local folder a revision pins "
                    "nothing: its Python files can change after review; vendor the model with "
                    "`harness add ORG/NAME --config <config.json> --revision <40-hex commit> "
                    "--trust-remote-code`, so the code comes from the Hub at that commit"
                )
            hf_config = _remote_config(resolved, revision)
            check_built_config(hf_config, where=where)
            return hf_config, ["built with reviewed remote code"]
        raise UnknownModelTypeError(
            f"{where}: model_type {model_type!r} is not known to the installed transformers "
            f"{transformers.__version__}; upgrade transformers (and the constraints file) or "
            "check the spelling"
        )
    if auto_map is not None and not resolved.native_class:
        notes.append("auto_map ignored: the model type is built by transformers itself")
    for key in _STORAGE_KEYS:
        if raw.pop(key, None) is not None:
            notes.append(f"{key} ignored: storage format, not architecture")
    check_config_values(raw, where=where, model_type=model_type)
    try:
        with quiet_transformers():
            hf_config = transformers.AutoConfig.for_model(model_type, **raw)
    except Exception as exc:
        raise InvalidConfigError(
            f"{where}: transformers rejected the config: {type(exc).__name__}: "
            f"{_first_line(exc)}; fix the named field"
        ) from None
    check_built_config(hf_config, where=where)
    return hf_config, notes


def _native_config_class(architecture: str) -> Any:
    """The config class of the transformers model class named `architecture`, or None."""
    import transformers

    cls = getattr(transformers, architecture, None)
    config_class = getattr(cls, "config_class", None) if isinstance(cls, type) else None
    return config_class if isinstance(getattr(config_class, "model_type", None), str) else None


def _remote_config(resolved: ResolvedConfig, revision: str | None) -> Any:
    """The config class from the Hub code the case opted into; offline reads only the HF cache."""
    import transformers

    from .resolve import hub_offline, offline_requested

    offline = resolved.offline or offline_requested(None)
    try:
        # hub_offline: transformers' dynamic-module fetch must not reach the network either.
        with hub_offline(offline):
            return transformers.AutoConfig.from_pretrained(
                resolved.hf_id,
                revision=revision,
                trust_remote_code=True,
                local_files_only=offline,
            )
    except Exception as exc:  # transformers and huggingface_hub raise many types here
        raise ModelBuildError(
            f"{resolved.model}: the opted-in remote code at revision {revision} could not be "
            f"loaded: {type(exc).__name__}: {_first_line(exc)}; run once online to fetch it "
            "into the HF cache, or check the revision"
        ) from None


def _model_builder(
    resolved: ResolvedConfig, hf_config: Any
) -> tuple[Callable[[Any], Any], str, list[str]]:
    """The class named in architectures[0], else the task's Auto class (causal LM, then VLM)."""
    import transformers

    name = resolved.config["architectures"][0]
    cls = getattr(transformers, name, None)
    if isinstance(cls, type):
        return cls, name, []
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES,
    )

    model_type = hf_config.model_type
    if model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        auto = transformers.AutoModelForCausalLM
        return (
            auto.from_config,
            auto.__name__,
            [f"{name} is not in transformers; built with {auto.__name__}"],
        )
    if model_type in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES:
        auto = transformers.AutoModelForImageTextToText
        return (
            auto.from_config,
            auto.__name__,
            [f"{name} is not in transformers; built with {auto.__name__}"],
        )
    raise ModelBuildError(
        f"{resolved.model}: architecture {name!r} is not a transformers class and model_type "
        f"{model_type!r} has no causal-LM or image-text-to-text Auto class; "
        "check `architectures` in the config"
    )


def _inventory(module: Any) -> Iterator[TensorRecord]:
    modules = dict(module.named_modules())
    for kind, named in (
        (TensorKind.PARAM, module.named_parameters(remove_duplicate=False)),
        (TensorKind.BUFFER, module.named_buffers(remove_duplicate=False)),
    ):
        first_name: dict[int, str] = {}
        aliases: dict[str, list[str]] = {}
        tensors: dict[str, Any] = {}
        for name, tensor in named:
            key = id(tensor)
            if key in first_name:
                aliases[first_name[key]].append(name)
                continue
            first_name[key] = name
            aliases[name] = []
            tensors[name] = tensor
        for name, tensor in tensors.items():
            owner = modules.get(name.rpartition(".")[0])
            yield TensorRecord(
                kind=kind,
                name=name,
                shape=tuple(int(s) for s in tensor.shape),
                dtype=str(tensor.dtype),
                module_class=type(owner).__name__ if owner is not None else "",
                aliases=tuple(aliases[name]),
            )


# Modules of another modality that some models keep inside their decoder (IDEFICS, GIT, PI0,
# Phi-4-multimodal); the text stack leaves them out wherever they sit.
_OTHER_MODALITY_MODULES = frozenset(
    {
        "vision_model",
        "vision_tower",
        "vqmodel",
        "visual",
        "vision_encoder",
        "image_encoder",
        "visual_projection",
        "perceiver_resampler",
        "multi_modal_projector",
        "audio_tower",
        "embed_tokens_extend",
    }
)


def _text_stack(
    module: Any, tensors: tuple[TensorRecord, ...]
) -> tuple[tuple[TensorRecord, ...], list[str]]:
    """The tensors under `get_decoder()` and `get_output_embeddings()` (everything when the decoder
    is the root), without modules of another modality."""
    paths = {id(sub): name for name, sub in module.named_modules()}
    try:
        decoder = module.get_decoder()
    except Exception:  # some wrappers raise instead of naming their decoder
        decoder = module
    head = module.get_output_embeddings() if hasattr(module, "get_output_embeddings") else None
    prefixes = [paths[id(sub)] for sub in (decoder, head) if sub is not None and id(sub) in paths]
    if "" in prefixes:
        prefixes = []

    def inside(name: str) -> bool:
        if _OTHER_MODALITY_MODULES.intersection(name.split(".")[:-1]):
            return False
        return not prefixes or any(name.startswith(f"{prefix}.") for prefix in prefixes)

    kept = tuple(t for t in tensors if inside(t.name) or any(inside(a) for a in t.aliases))
    if len(kept) == len(tensors):
        return tensors, []
    left_out = sum(t.numel for t in tensors if t.kind is TensorKind.PARAM) - sum(
        t.numel for t in kept if t.kind is TensorKind.PARAM
    )
    where = ", ".join(prefixes) or "the whole model"
    return kept, [f"text stack only: {where}; {left_out:,} parameters outside it left out"]


def _config_dict(hf_config: Any) -> dict[str, Any]:
    data = hf_config.to_dict()
    for attribute in ("layer_types", "head_dim", "sliding_window"):
        if attribute not in data and getattr(hf_config, attribute, None) is not None:
            data[attribute] = getattr(hf_config, attribute)
    return data


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' warnings and prints while building; they are not our output."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(previous)


def _first_line(exc: BaseException) -> str:
    text = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if len(text) > 1 and text[0].endswith(":"):
        return f"{text[0]} {text[1]}"[:300]
    return text[0][:300] if text else type(exc).__name__


def parameter_total(tensors: Inspection | Iterable[TensorRecord]) -> int:
    """Exact parameter total of the records (tied weights once: they are one record)."""
    records = tensors.tensors if isinstance(tensors, Inspection) else tensors
    return sum(record.numel for record in records if record.kind is TensorKind.PARAM)


def estimate_memory(
    tensors: Inspection | Iterable[TensorRecord], dtype: str = "bf16"
) -> MemoryEstimate:
    """Weight memory of all parameters stored at `dtype`, in decimal GB (10^9 bytes)."""
    size = parameter_total(tensors) * bytes_per_element(dtype)
    return MemoryEstimate(dtype=dtype, bytes=size, gb=size / 1e9)


def estimate_memory_all(tensors: Inspection | Iterable[TensorRecord]) -> list[MemoryEstimate]:
    """Weight memory at every dtype Mantile knows."""
    records = tuple(tensors.tensors if isinstance(tensors, Inspection) else tensors)
    return [estimate_memory(records, dtype) for dtype in DTYPE_BYTES]


def count_decoder_layers(tensors: Sequence[TensorRecord]) -> int:
    """Number of distinct decoder-layer indices among the tensors."""
    indices = {layer_index_of(t.name) for t in tensors}
    indices.discard(None)
    return len(indices)


def validate_config(
    tensors: Inspection | Iterable[TensorRecord],
    expected_params: int | None = None,
    expected_layers: int | None = None,
    tolerance: float = 0.01,
) -> dict[str, Any]:
    """Seed check: total parameters within `tolerance` and the layer count exact."""
    records = tuple(tensors.tensors if isinstance(tensors, Inspection) else tensors)
    total = parameter_total(records)
    layers = count_decoder_layers(records)
    discrepancies: list[str] = []
    if expected_params is not None:
        difference = (total - expected_params) / expected_params
        if abs(difference) > tolerance:
            discrepancies.append(
                f"parameters: expected {expected_params:,}, observed {total:,} "
                f"({difference:+.3%}, tolerance {tolerance:.2%})"
            )
    if expected_layers is not None and layers != expected_layers:
        discrepancies.append(f"layers: expected {expected_layers}, observed {layers}")
    return {
        "valid": not discrepancies,
        "discrepancies": discrepancies,
        "total_params": total,
        "num_layers": layers,
    }
