"""Load the harness pytest plugin for this repository (other repositories get it via pytest11)."""

pytest_plugins = ["harness.plugin"]
