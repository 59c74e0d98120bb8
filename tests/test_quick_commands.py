"""`movie-r status` and `movie-r models` read manifests and logs only: they must not pay for
the numerical libraries at start (`benchmarks/cli_start.py` prints the wall times)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "scipy", "sklearn", "joblib", "pyarrow")
PROBE = """
import sys
from movie_r.cli.main import main
code = main([{command!r}, "--home", {home!r}])
print("heavy:", ",".join(sorted(name for name in {heavy!r} if name in sys.modules)))
sys.exit(code)
"""


@pytest.mark.parametrize("command", ["status", "models"])
def test_quick_commands_import_no_numerical_library(command: str, trained_home) -> None:
    probe = PROBE.format(command=command, home=str(trained_home.home), heavy=HEAVY)
    env = {"MOVIE_R_CATALOG": str(trained_home.catalog), "MOVIE_R_INTERACTIONS": ""}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "champion" in result.stdout or "* " in result.stdout  # it did read the trained home
    assert result.stdout.splitlines()[-1] == "heavy: "
