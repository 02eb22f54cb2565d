"""The structure step's records: components, the structure of a model, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..inventory import TensorRecord

__all__ = ["TEXT", "Component", "Finding", "Structure"]


TEXT = "text"


@dataclass(frozen=True)
class Finding:
    """A disagreement between the config and the tensor shapes, or a note on how a size was read."""

    level: str  # "mismatch" or "note"
    where: str
    message: str


@dataclass(frozen=True)
class Component:
    """One functional piece of the model (an attention block of layer 3, the final norm ...)."""

    kind: str
    path: str
    layer_index: int | None
    module_class: str
    tensors: tuple[TensorRecord, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    part: str = TEXT  # "text", or the encoder it belongs to: "vision", "audio" ...

    @property
    def parameter_count(self) -> int:
        """Parameters held by the component's tensors."""
        return sum(t.numel for t in self.tensors if t.kind == "param")


@dataclass(frozen=True)
class Structure:
    """Every component of a model, with the decoder layer count, layer types and findings."""

    model: str
    components: tuple[Component, ...]
    num_layers: int
    layer_types: tuple[str, ...]
    hidden_size: int
    vocab_size: int
    tied_embeddings: bool
    findings: tuple[Finding, ...]
    arch: dict[str, Any]

    @property
    def total_params(self) -> int:
        """Parameters over all components (equals the inspection total)."""
        return sum(c.parameter_count for c in self.components)

    def of_kind(self, kind: str, part: str = "text") -> list[Component]:
        """Components of one kind in one part of the model (the text stack unless told)."""
        return [c for c in self.components if c.kind == kind and c.part == part]

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts besides the text stack (`vision`, `audio` ...), in model order."""
        return tuple(dict.fromkeys(c.part for c in self.components if c.part != TEXT))
