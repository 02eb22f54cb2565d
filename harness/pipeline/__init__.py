"""The pipeline steps, one module each; a step imports only earlier ones (docs/architecture.md)."""
