"""Load the harness pytest plugin for this repository.

Installed with pip, the plugin is already loaded through its `pytest11` entry point; from a plain
checkout (or with plugin autoloading off) this registers it once.
"""

from __future__ import annotations

import pytest

import harness.plugin


def pytest_configure(config: pytest.Config) -> None:
    """Register the plugin unless its entry point already did."""
    if not config.pluginmanager.is_registered(harness.plugin):
        config.pluginmanager.register(harness.plugin, "harness")
