"""The README's configuration tables list every `MOVIE_R_*` variable there is, with the
settings' own defaults, and nothing that no longer exists."""

from __future__ import annotations

import re
import subprocess

import pytest
from pydantic_core import PydanticUndefined

from movie_r.settings import Settings

from .conftest import REPO

NAME = re.compile(r"MOVIE_R_[A-Z][A-Z0-9_]*[A-Z0-9]")
NOT_VARIABLES = {"MOVIE_R_SERVING__PORT"}  # settings.py's example of a name the variables do not take


def configuration_rows() -> dict[str, str]:
    """variable -> its default cell, from the tables under "## Configuration"."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `MOVIE_R_") and len(cells) == 3:
            for name in NAME.findall(cells[0]):
                rows[name] = cells[1]
    return rows


def names_in_the_repository() -> set[str]:
    """Every MOVIE_R_ name a tracked file other than the README mentions."""
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    found: set[str] = set()
    for name in listed.stdout.splitlines():
        path = REPO / name
        if name == "README.md" or not path.is_file() or path.suffix in {".png", ".gz", ".npz", ".npy"}:
            continue
        found |= set(NAME.findall(path.read_text(errors="ignore")))
    return found - NOT_VARIABLES


def test_every_setting_is_in_the_configuration_table_with_its_default() -> None:
    rows = configuration_rows()
    for field, info in Settings.model_fields.items():
        name = f"MOVIE_R_{field.upper()}"
        assert name in rows, f"{name} is missing from the README's configuration table"
        default = info.default
        if info.default_factory is None and default is not PydanticUndefined and default is not None:
            shown = str(default).lower() if isinstance(default, bool) else str(default)
            assert rows[name] == shown, f"{name}: README says {rows[name]!r}, settings.py {shown!r}"


def test_every_variable_the_repository_reads_is_listed_and_none_other() -> None:
    rows = set(configuration_rows())
    used = names_in_the_repository()
    assert used - rows == set(), f"named in the repository, missing from the README's table: {sorted(used - rows)}"
    stale = rows - used - {f"MOVIE_R_{field.upper()}" for field in Settings.model_fields}
    assert stale == set(), f"in the README's table, used nowhere: {sorted(stale)}"
