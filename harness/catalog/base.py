"""The catalog's base: the Layer interface every class implements, and its conventions.

The default layer catalog is Mantile's layer interface written from its maths. Each class has
Mantile's name and constructor (same parameter names, same required/optional split, same
defaults) and exact integer parameter counts. Beyond Mantile, constructors validate their
arguments and `instantiate` refuses spec keys a class does not take instead of dropping them.

Conventions shared by every class:

* Weights. `weight_bytes()` is the whole, unsharded layer: parameter_count x bytes per element of
  the layer dtype. `weight_bytes_per_package()` divides each sharded group evenly by its degree
  (biases go with their matrix) and counts replicated groups in full: attention, MLP and embedding
  shard everything by tensor_parallel; MoE replicates the router, shards routed experts by
  expert_parallel x tensor_parallel and shared experts by tensor_parallel; norms are replicated.
  Context, sequence and pipeline parallelism do not shard a layer's weights.
* FLOPs. Only matrix multiplications count, as `torch.utils.flop_counter.FlopCounterMode` counts
  them: a GEMM (M x K)(K x N) is 2·M·K·N. Elementwise work (norms, activations, softmax, router
  top-k, bias adds) and embedding lookups are 0.
  - prefill: B sequences of S new tokens, T = B·S. Each query attends S_kv keys: S_kv = S (or
    `context_len` when given, for a chunk after a cached prefix), capped at `sliding_window` W.
    Scores are the full square, as dense kernels and PyTorch count them: no causal halving.
  - decode: one new token per sequence (seq_len must be 1), T = B, and `context_len` (required by
    attention) is the number of keys that token attends, itself included; capped at the window.
  - window: the cap is the band a window-honouring kernel computes (Mantile's model), the one
    departure from FlopCounterMode. PyTorch's dense prefill (eager or SDPA) scores every key of
    the chunk, masked or not: S + min(P, W - 1) for S new tokens after P cached ones (the cache
    keeps W - 1). The two agree in decode (S = 1) and whenever S_kv <= W; harness.pipeline.flops
    checks exactly those: prefill at S = W, then one decode token at context W + 1.
  - attention: projections 2·T·H·(d_q + 2·d_kv) + 2·T·d_q·H, then QKᵀ and PV each
    2·B·q·S_kv·h·d_h with q new tokens per sequence; d_q = h·d_h, d_kv = h_kv·d_h (MHA: h_kv = h).
  - MLP: 2·T·p·H·I. MoE: router 2·T·H·E plus 2·T·(top_k + E_s)·p·H·I.
* KV cache. `kv_cache_bytes(B, L)` = 2·B·L_eff·h_kv·d_h·bytes per element for attention classes,
  L_eff = min(L, sliding_window); 0 for every other class. One dtype covers weights and cache.
* Mantile's method names. Every class also answers `compute_weight_memory()`,
  `compute_flops(batch_size, seq_len, phase)` and `compute_kv_cache(batch_size, seq_len)` with
  Mantile's meaning: integer bytes or FLOPs of one package (the whole layer divided over the
  packages its parallelism spreads it on; at parallelism 1 the whole layer), `phase` a `Phase`
  (or its value, or any enum whose value is "prefill"/"decode"), and in decode `seq_len` the tokens
  already cached: the new token attends those and itself. So a test written against these names
  runs unchanged against `backend.layers` of a Mantile checkout. `dtype` may be a string ('bf16')
  or an enum whose value is one (Mantile's `DataType`).
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from enum import Enum
from typing import ClassVar

from ..dtypes import bytes_per_element
from ..errors import CatalogError, HarnessError

__all__ = ["PHASES", "Layer", "Phase", "spec_parameters"]


class Phase(str, Enum):
    """Inference phase, as Mantile's `Phase`: prefill (the prompt) or decode (one new token)."""

    PREFILL = "prefill"
    DECODE = "decode"


PHASES: tuple[str, ...] = tuple(phase.value for phase in Phase)
TENSOR = "tensor_parallel"
CONTEXT = "context_parallel"
SEQUENCE = "sequence_parallel"
PIPELINE = "pipeline_parallel"
EXPERT = "expert_parallel"


# Constructor arguments that instantiate() supplies itself; they may not appear inside specs.
_RESERVED_SPEC_KEYS: tuple[str, ...] = ("dtype", "parallelism")
_METADATA_SPEC_KEYS: tuple[str, ...] = ("parameter_count",)


# Mantile's loader injects layer_idx=0 when specs omit it, so at the specs level it is optional.
_LAYER_IDX_DEFAULT = 0


def _positive_int(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CatalogError(
            f"{owner}: {name}={value!r} is not a positive integer; "
            f"pass {name} as a whole number >= 1 (read it from the model config)"
        )
    return value


def _non_negative_int(owner: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CatalogError(
            f"{owner}: {name}={value!r} is not a non-negative integer; pass a whole number >= 0"
        )
    return value


def _flag(owner: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise CatalogError(f"{owner}: {name}={value!r} is not a boolean; pass true or false")
    return value


def _enum_value(value: object) -> object:
    """An enum's value (Mantile's DataType.BF16 -> 'bf16', Phase.DECODE -> 'decode'), else value."""
    return value.value if isinstance(value, Enum) else value


def _dtype_name(owner: str, dtype: object) -> str:
    name = _enum_value(dtype)
    if not isinstance(name, str):
        raise CatalogError(f"{owner}: dtype={dtype!r} is not a string; pass a name such as 'bf16'")
    return name


def _element_size(owner: str, dtype: str) -> float:
    try:
        return bytes_per_element(dtype)
    except HarnessError as e:
        raise CatalogError(f"{owner}: dtype={dtype!r} is not known ({e})") from e


def _parallelism(
    owner: str, supported: frozenset[str], requested: Mapping[str, object] | None
) -> dict[str, int]:
    if requested is None:
        requested = {}
    if not isinstance(requested, Mapping):
        raise CatalogError(
            f"{owner}: parallelism={requested!r} is not a mapping; pass a dict such as "
            f"{{'tensor_parallel': 2}} or None"
        )
    accepted = ", ".join(sorted(supported)) or "none"
    unknown = sorted(str(key) for key in requested if key not in supported)
    if unknown:
        raise CatalogError(
            f"{owner}: parallelism key(s) {', '.join(map(repr, unknown))} not supported; "
            f"{owner} supports: {accepted}. Remove the key(s)"
        )
    degrees = {kind: 1 for kind in sorted(supported)}
    for kind, degree in requested.items():
        if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
            raise CatalogError(
                f"{owner}: parallelism {kind}={degree!r} is not a positive integer degree; "
                f"pass a whole number >= 1 (1 means no sharding)"
            )
        degrees[kind] = degree
    return degrees


def _require_divides(owner: str, kind: str, degree: int, sizes: Mapping[str, int]) -> None:
    """Raise unless `degree` divides every size in `sizes`, listing the degrees that would work."""
    bad = {name: size for name, size in sizes.items() if size % degree}
    if not bad:
        return
    common = math.gcd(*sizes.values())
    fits = ", ".join(str(d) for d in range(1, common + 1) if common % d == 0)
    what = " and ".join(f"{name}={size}" for name, size in sizes.items())
    broken = ", ".join(f"{name}={size}" for name, size in bad.items())
    raise CatalogError(
        f"{owner}: {kind}={degree} does not divide {broken}; "
        f"choose a {kind} degree that divides {what}: one of {fits}"
    )


def _phase_name(owner: str, phase: object) -> str:
    """'prefill' or 'decode' from a Phase, its value, or any enum with one of those values."""
    name = _enum_value(phase)
    if name not in PHASES:
        raise CatalogError(f"{owner}: phase={phase!r} is not one of {', '.join(PHASES)}")
    return str(name)


class Layer(ABC):
    """Abstract base of every catalog layer: index, dtype, parallelism and the cost interface."""

    SUPPORTED_PARALLELISM: ClassVar[frozenset[str]] = frozenset()
    # The parallelism kinds whose degrees multiply into the packages one instance runs on.
    PACKAGE_PARALLELISM: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, layer_idx: int, dtype: str, parallelism: Mapping[str, int] | None = None
    ) -> None:
        owner = type(self).__name__
        self.layer_idx: int = _non_negative_int(owner, "layer_idx", layer_idx)
        self.dtype: str = _dtype_name(owner, dtype)
        self.bytes_per_element: float = _element_size(owner, self.dtype)
        self.parallelism: dict[str, int] = _parallelism(
            owner, self.SUPPORTED_PARALLELISM, parallelism
        )

    def degree(self, kind: str) -> int:
        """Return the degree of one parallelism kind (1 when the class does not support it)."""
        return self.parallelism.get(kind, 1)

    def specs(self) -> dict[str, object]:
        """Return the spec keys this layer was built from, as `instantiate` would accept them."""
        required, optional = spec_parameters(type(self))
        return {name: getattr(self, name) for name in (*required, *optional)}

    @abstractmethod
    def parameter_count(self) -> int:
        """Return the exact number of parameters of the whole (unsharded) layer."""

    @abstractmethod
    def flops(
        self,
        batch_size: int,
        seq_len: int,
        *,
        phase: Phase | str = Phase.PREFILL,
        context_len: int | None = None,
    ) -> int:
        """Return the matmul FLOPs of one forward pass (see the module docstring for the rules)."""

    def weight_bytes(self) -> float:
        """Return parameter_count x bytes per element: the whole layer, unsharded."""
        return self.parameter_count() * self.bytes_per_element

    def weight_bytes_per_package(self) -> float:
        """Return the weight bytes one package holds under this layer's parallelism."""
        return self._parameters_per_package() * self.bytes_per_element

    def kv_cache_bytes(self, batch_size: int, context_len: int) -> float:
        """Return the KV-cache bytes of B sequences of `context_len` tokens (0 if no attention)."""
        owner = f"{type(self).__name__}.kv_cache_bytes"
        _positive_int(owner, "batch_size", batch_size)
        _positive_int(owner, "context_len", context_len)
        return 0.0

    def _parameters_per_package(self) -> float:
        # Replicated unless a subclass shards.
        return float(self.parameter_count())

    def num_packages(self) -> int:
        """Packages one instance runs on: the product of its sharding parallelism degrees."""
        return math.prod(self.degree(kind) for kind in self.PACKAGE_PARALLELISM)

    # Mantile's method names (see the module docstring): per package, integers.

    def compute_weight_memory(self) -> int:
        """Weight bytes one package holds (Mantile's name for `weight_bytes_per_package`)."""
        return int(self.weight_bytes_per_package())

    def compute_flops(self, batch_size: int, seq_len: int, phase: Phase | str) -> int:
        """FLOPs of one package; in decode `seq_len` is the tokens already cached."""
        name = _phase_name(f"{type(self).__name__}.compute_flops", phase)
        if name == Phase.DECODE.value:
            _positive_int(f"{type(self).__name__}.compute_flops", "seq_len", seq_len)
            total = self.flops(batch_size, 1, phase=Phase.DECODE, context_len=seq_len + 1)
        else:
            total = self.flops(batch_size, seq_len, phase=Phase.PREFILL)
        return total // self.num_packages()

    def compute_kv_cache(self, batch_size: int, seq_len: int) -> int:
        """KV-cache bytes one package holds for B sequences of `seq_len` cached tokens."""
        return int(self.kv_cache_bytes(batch_size, seq_len) / self.num_packages())

    def _step(
        self, batch_size: int, seq_len: int, phase: Phase | str, context_len: int | None
    ) -> tuple[int, int, int | None]:
        """Check a flops() call; return (sequences, new tokens per sequence, keys per query)."""
        owner = f"{type(self).__name__}.flops"
        phase = _phase_name(owner, phase)
        _positive_int(owner, "batch_size", batch_size)
        _positive_int(owner, "seq_len", seq_len)
        if context_len is not None:
            _positive_int(owner, "context_len", context_len)
        if phase == "prefill":
            if context_len is not None and context_len < seq_len:
                raise CatalogError(
                    f"{owner}: prefill context_len={context_len} is shorter than "
                    f"seq_len={seq_len}; context_len counts the cached prefix plus the new "
                    f"tokens, so pass context_len >= seq_len or leave it None"
                )
            return batch_size, seq_len, seq_len if context_len is None else context_len
        if seq_len != 1:  # decode
            raise CatalogError(
                f"{owner}: phase='decode' computes one new token per sequence, so seq_len "
                f"must be 1 (got {seq_len}); pass the tokens already attended as context_len"
            )
        return batch_size, 1, context_len

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self.specs().items())
        return (
            f"{type(self).__name__}({args}, dtype={self.dtype!r}, parallelism={self.parallelism})"
        )


def _spec_view(
    required: tuple[str, ...], optional: Mapping[str, object]
) -> tuple[tuple[str, ...], dict[str, object]]:
    """Turn constructor parameters into spec keys: no dtype/parallelism, layer_idx optional."""
    spec_required = tuple(
        name for name in required if name not in _RESERVED_SPEC_KEYS and name != "layer_idx"
    )
    spec_optional: dict[str, object] = {}
    if "layer_idx" in required:
        spec_optional["layer_idx"] = _LAYER_IDX_DEFAULT
    for name, default in optional.items():
        if name not in _RESERVED_SPEC_KEYS:
            spec_optional[name] = default
    return spec_required, spec_optional


def _signature_parameters(cls: type) -> tuple[tuple[str, ...], dict[str, object]]:
    required: list[str] = []
    optional: dict[str, object] = {}
    for param in inspect.signature(cls).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.default is param.empty:
            required.append(param.name)
        else:
            optional[param.name] = param.default
    return tuple(required), optional


def spec_parameters(cls: type) -> tuple[tuple[str, ...], dict[str, object]]:
    """Return a class's required spec keys and its optional ones with their defaults."""
    return _spec_view(*_signature_parameters(cls))
