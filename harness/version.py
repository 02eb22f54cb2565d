"""The harness version, in one place (`harness.__version__` re-exports it)."""

__version__ = "0.1.0"
