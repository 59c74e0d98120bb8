"""Every benchmark script starts as the README writes it (`python benchmarks/X.py`, from any
directory): a script that cannot import what it needs is a figure nobody can measure again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", [path for path in BENCHMARKS if not path.name.startswith("_")], ids=lambda path: path.name)
def test_each_benchmark_answers_help(script: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
