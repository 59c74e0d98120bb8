"""The container suite runs only where a Docker engine answers; elsewhere it is skipped, saying why."""

from __future__ import annotations

import pytest

from .stack import engine_problem


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = [item for item in items if item.get_closest_marker("containers")]
    if not selected:
        return
    problem = engine_problem()
    if problem:
        skip = pytest.mark.skip(reason=f"no Docker engine to run containers on: {problem}")
        for item in selected:
            item.add_marker(skip)
