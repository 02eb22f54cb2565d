"""`python -m harness.cli`: the `harness` command."""

from . import main

raise SystemExit(main())
