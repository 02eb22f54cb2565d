"""`harness add`: vendor a model's config and scaffold its case file with TODO claims."""

from __future__ import annotations

import argparse

from .common import add_native_class, hub_token, say

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `harness add`."""
    add = commands.add_parser(
        "add", help="vendor a model's config and scaffold its case file with TODO claims"
    )
    add.add_argument("hf_id", help="Hub id (org/name); names the case file and snapshot folder")
    add.add_argument(
        "--config", help="the model's config.json to vendor (default: HF cache, then the Hub)"
    )
    add.add_argument("--revision", help="Hub revision the config belongs to (40-hex commit best)")
    add.add_argument(
        "--cases-dir",
        default="cases",
        help="folder of case files (default: cases in the working directory, never a parent's)",
    )
    add.add_argument("--offline", action="store_true", default=None, help="never touch the network")
    add.add_argument(
        "--trust-remote-code",
        action="store_true",
        help="the model needs Hub code: build it with the code at --revision (a 40-hex commit "
        "you reviewed) and record the opt-in in the case",
    )
    add_native_class(add)
    add.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scaffold, write the files, print them and the next steps."""
    from ..scaffold import add_model, next_steps, prepare_scaffold

    scaffold = prepare_scaffold(
        args.hf_id,
        config_path=args.config,
        revision=args.revision,
        cases_dir=args.cases_dir,
        offline=args.offline,
        token=hub_token(),
        trust_remote_code=args.trust_remote_code,
        native_class=args.native_class,
    )
    lines = [f"wrote {path}" for path in add_model(scaffold)]
    total = scaffold.result.config["total_params"]
    lines.append(f"{scaffold.hf_id}: the dry run counts {total:,} parameters. Next:")
    lines += [f"  {n}. {step}" for n, step in enumerate(next_steps(scaffold), start=1)]
    say(*lines)
    return 0
