"""The `harness` command line: inspect output, JSON, tensor files, one-line errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main

from ..conftest import TINY_LLAMA


def test_inspect_prints_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "meta-llama/Llama-3.2-1B", "--offline"]) == 0
    out = capsys.readouterr().out
    assert "class:        LlamaForCausalLM" in out
    assert "parameters:   1,235,814,400 (1.2B)" in out
    assert "1 tied aliases" in out
    assert "largest:      model.embed_tokens.weight (128256, 2048)" in out


def test_inspect_json_and_tensor_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_csv = tmp_path / "t.csv"
    assert (
        main(
            [
                "inspect",
                "openai/gpt-oss-20b",
                "--json",
                "--dtype",
                "bf16",
                "--tensors-out",
                str(out_csv),
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["total_params"] == 20_914_757_184
    assert list(summary["memory_gb"]) == ["bf16"]
    rows = list(csv.reader(out_csv.open()))
    assert rows[0] == ["kind", "name", "shape", "dtype", "elements", "meta_dtype"]
    # this config.json declares no dtype: the meta build's, with nothing in meta_dtype
    assert ["param", "model.layers.0.self_attn.sinks", "(64,)", "float32", "64", ""] in rows
    assert len(rows) - 1 == summary["tensor_count"]
    assert sum(int(row[4]) for row in rows[1:] if row[0] == "param") == summary["total_params"]


@pytest.mark.parametrize(
    ("declared", "param_dtype", "param_meta"),
    [
        ({"torch_dtype": "float16"}, "float16", "float32"),
        ({"dtype": "bfloat16"}, "bfloat16", "float32"),
        ({"torch_dtype": "float32"}, "float32", ""),  # the same dtype: no meta_dtype
        ({}, "float32", ""),
    ],
)
def test_tensor_csv_dtype_is_the_checkpoints_and_meta_dtype_only_where_it_differs(
    tmp_path: Path, write_config, declared: dict, param_dtype: str, param_meta: str
) -> None:
    out = tmp_path / "t.csv"
    assert (
        main(["inspect", str(write_config({**TINY_LLAMA, **declared})), "--tensors-out", str(out)])
        == 0
    )
    rows = {row["name"]: row for row in csv.DictReader(out.open())}
    embedding = rows["model.embed_tokens.weight"]
    assert (embedding["dtype"], embedding["meta_dtype"]) == (param_dtype, param_meta)
    assert embedding["elements"] == str(256 * 64)
    buffers = [row for row in rows.values() if row["kind"] == "buffer"]
    assert buffers and all(row["meta_dtype"] == "" for row in buffers)  # the model code's dtype


def test_inspect_tensor_json(tmp_path: Path, write_config) -> None:
    out = tmp_path / "t.json"
    assert (
        main(
            [
                "inspect",
                str(write_config(dict(TINY_LLAMA, tie_word_embeddings=True))),
                "--tensors-out",
                str(out),
            ]
        )
        == 0
    )
    rows = json.loads(out.read_text())
    assert rows[0]["name"] == "model.embed_tokens.weight"
    assert rows[0]["aliases"] == ["lm_head.weight"]


def test_errors_are_one_line_with_status_2(
    write_config, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = write_config("{not json")
    target = tmp_path / "never.csv"
    assert main(["inspect", str(bad), "--tensors-out", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("harness inspect: error: ") and "line 1, column 2" in err
    assert not target.exists()


def test_offline_missing_snapshot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "nobody/nothing", "--offline"]) == 2
    assert "harness add nobody/nothing" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["layers"], ["cache", "info"]])
def test_a_closed_pipe_ends_quietly_without_a_traceback(command: list[str]) -> None:
    """`harness layers | head -1`: the reader is gone; the command stops with status 1, quietly."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: the first write to stdout fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "harness.cli", *command],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 1
