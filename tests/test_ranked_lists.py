"""Precomputed default answers: the same bytes as ranking on demand, checked before use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movie_r.answering.inference import Filters, Recommender
from movie_r.answering.ranked_lists import BODY, LISTS, RankedLists, build, load, ranked
from movie_r.errors import ArtifactError
from movie_r.storage.registry import ModelVersion, Registry, new_version_id


def saved(tmp_path: Path, recommender: Recommender, lists: RankedLists | None) -> ModelVersion:
    files = {LISTS: lists.save, BODY: lists.save_body} if lists is not None else {}
    return Registry(tmp_path / "models").save(recommender.pipeline, {"version": new_version_id()}, files)


@pytest.mark.parametrize("k", [3, 10])  # 10 is more than the 5 precomputed neighbours: ranked over everything
def test_every_row_holds_what_similar_returns(small_recommender: Recommender, k: int) -> None:
    lists = build(small_recommender, k)
    assert len(lists) == len(small_recommender) and lists.k == k
    for row in range(len(small_recommender)):
        assert lists.get(row) == ranked(small_recommender.similar(row, k, Filters()))


def test_lists_survive_the_registry_and_their_checksum_is_recorded(tmp_path: Path, small_recommender: Recommender) -> None:
    version = saved(tmp_path, small_recommender, build(small_recommender))
    assert set(version.manifest.files) == {LISTS, BODY}
    loaded = load(version, len(small_recommender))
    assert isinstance(loaded.body.base, np.memmap) and not loaded.body.flags.writeable  # a plain view of the mapping
    on_demand = [ranked(small_recommender.similar(row, 10, Filters())) for row in range(len(small_recommender))]
    assert [loaded.get(row) for row in range(len(loaded))] == on_demand


def test_altered_lists_are_refused(tmp_path: Path, small_recommender: Recommender) -> None:
    version = saved(tmp_path, small_recommender, build(small_recommender))
    with open(version.path / LISTS, "r+b") as handle:
        handle.seek(200)
        handle.write(b"altered")
    with pytest.raises(ArtifactError, match="lists.npz checksum mismatch"):
        load(version, len(small_recommender))
    (version.path / LISTS).unlink()
    with pytest.raises(ArtifactError, match="lists.npz is missing"):
        load(version, len(small_recommender))


def test_lists_of_another_catalogue_size_are_refused(tmp_path: Path, small_recommender: Recommender) -> None:
    version = saved(tmp_path, small_recommender, build(small_recommender))
    with pytest.raises(ArtifactError, match="holds 12 movies, the model 13"):
        load(version, 13)


def test_versions_without_lists_or_with_another_format_answer_on_demand(tmp_path: Path, small_recommender: Recommender) -> None:
    assert load(saved(tmp_path, small_recommender, None), len(small_recommender)) is None
    lists = build(small_recommender)

    def save_as_format_0(path: Path) -> None:
        lists.save(path)
        with np.load(path) as arrays:
            np.savez_compressed(path, **{**arrays, "format": np.int64(0)})

    registry = Registry(tmp_path / "models")
    version = registry.save(small_recommender.pipeline, {"version": new_version_id()}, {LISTS: save_as_format_0})
    assert load(version, len(small_recommender)) is None


def test_a_truncated_or_missing_body_is_refused(tmp_path: Path, small_recommender: Recommender) -> None:
    version = saved(tmp_path, small_recommender, build(small_recommender))
    body = version.path / BODY
    os_size = body.stat().st_size
    with open(body, "r+b") as handle:
        handle.truncate(os_size - 100)
    with pytest.raises(ArtifactError, match="lists.body.npy checksum mismatch"):
        load(version, len(small_recommender))
    body.unlink()
    with pytest.raises(ArtifactError, match="lists.body.npy is missing"):
        load(version, len(small_recommender))


def test_lists_saved_with_their_bytes_inside_still_load(tmp_path: Path, small_recommender: Recommender) -> None:
    """Format 1, before the bytes moved to their own file: versions on disk keep their lists."""
    lists = build(small_recommender)

    def save_as_format_1(path: Path) -> None:
        np.savez_compressed(
            path, format=np.int64(1), k=np.int64(lists.k), body=lists.body, offsets=lists.offsets, scores=lists.scores,
            counts=lists.counts,
        )  # fmt: skip

    version = Registry(tmp_path / "models").save(small_recommender.pipeline, {"version": new_version_id()}, {LISTS: save_as_format_1})
    loaded = load(version, len(small_recommender))
    assert [loaded.get(row) for row in range(len(loaded))] == [lists.get(row) for row in range(len(lists))]
