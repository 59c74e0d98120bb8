"""The storage-root check the services run at start."""

from __future__ import annotations

import os
from pathlib import Path

from movie_r.storage.ownership import storage_problem


def test_missing_parts_are_created_and_pass(tmp_path: Path) -> None:
    assert storage_problem(tmp_path / "home", [tmp_path / "home" / "models", tmp_path / "home" / "metrics"]) is None
    assert (tmp_path / "home" / "models").is_dir() and not list((tmp_path / "home" / "models").iterdir())


def test_a_part_it_cannot_write_is_one_line_naming_the_path_the_owner_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "models").write_text("not a directory")  # fails for root too, unlike a permission bit
    problem = storage_problem(tmp_path, [tmp_path / "metrics", tmp_path / "models"])
    assert problem is not None and "\n" not in problem
    assert f"{tmp_path / 'models'}" in problem and f"uid {os.getuid()}" in problem and "MOVIE_R_UID" in problem
