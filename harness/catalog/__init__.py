"""The reference layer set: the catalog's classes, the loader-contract replay, the gap formulas.

`harness.catalog` is the package the generated gap skeletons import the layer classes from (the
harness's counterpart of Mantile's `backend.layers`), so it re-exports the classes of
`harness.catalog.catalog`. `harness.catalog.loader` replays Mantile's loader on a config;
`harness.catalog.formulas` holds the reference formulas of components no class computes;
`harness.catalog.registry` reads the gap kinds from `gap_kinds/<kind>.toml`.
"""

from .catalog import *  # noqa: F403
from .catalog import __all__  # noqa: F401
