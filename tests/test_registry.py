"""Versions on disk: atomic writes, checksum refusal, the relative champion symlink."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from movie_r.answering.inference import Recommender
from movie_r.errors import ArtifactError
from movie_r.storage.journal import read_records
from movie_r.storage.registry import Registry, new_version_id


def save(registry: Registry, pipeline, version: str | None = None):
    return registry.save(pipeline, {"version": version or new_version_id(), "kind": "tfidf"})


def test_saved_version_reloads_and_predicts_the_same(tmp_path: Path, small_recommender) -> None:
    registry = Registry(tmp_path / "models")
    saved = save(registry, small_recommender.pipeline)
    assert sorted(p.name for p in saved.path.iterdir()) == ["manifest.json", "manifest.sig", "pipeline.joblib"]
    reloaded = registry.get(saved.version).load()
    assert (reloaded[-1].neighbors_ == small_recommender.model.neighbors_).all()


def test_tampered_artifact_is_refused_before_unpickling(tmp_path: Path, small_recommender) -> None:
    registry = Registry(tmp_path / "models")
    saved = save(registry, small_recommender.pipeline)
    with open(saved.path / "pipeline.joblib", "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        registry.get(saved.version).load()


def test_loaded_arrays_are_read_only_maps_of_the_verified_file(tmp_path: Path, small_recommender) -> None:
    """Workers share the artifact's pages: its arrays are mapped from the file, and none is writable."""
    import numpy as np

    registry = Registry(tmp_path / "models")
    saved = save(registry, small_recommender.pipeline)
    blend = registry.get(saved.version).load()[-1]
    for array in (blend.neighbors_, blend.similarities_, blend.item_matrix_.data, blend.item_matrix_.indices):
        # a plain ndarray (no memmap overhead on every slice) over the file's mapped pages
        assert type(array) is np.ndarray and isinstance(array.base, np.memmap)
        assert array.base.filename == str(saved.path / "pipeline.joblib")
        assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        blend.neighbors_[0, 0] = 1
    # and answers still come from them
    assert len(Recommender(registry.get(saved.version).load()).recommend(movie_id=1, k=3).recommendations) == 3


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_a_truncated_artifact_is_refused(tmp_path: Path, small_recommender, keep: float) -> None:
    registry = Registry(tmp_path / "models")
    saved = save(registry, small_recommender.pipeline)
    artifact = saved.path / "pipeline.joblib"
    os.truncate(artifact, int(artifact.stat().st_size * keep))
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        registry.get(saved.version).load()


def test_failed_write_leaves_no_version_behind(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "models")
    with pytest.raises(pickle.PicklingError):
        registry.save(lambda: None, {"version": "v1"})  # a lambda cannot be pickled
    assert list(registry.versions_dir.iterdir()) == []


def test_half_written_versions_are_invisible(tmp_path: Path, small_recommender) -> None:
    registry = Registry(tmp_path / "models")
    saved = save(registry, small_recommender.pipeline)
    (registry.versions_dir / ".20990101T000000Z-abcdef.x1").mkdir()
    assert [v.version for v in registry.versions()] == [saved.version]


def test_champion_is_a_relative_symlink_swapped_atomically(tmp_path: Path, small_recommender) -> None:
    registry = Registry(tmp_path / "models")
    first, second = save(registry, small_recommender.pipeline, "v1"), save(registry, small_recommender.pipeline, "v2")
    registry.set_champion(first.version)
    assert os.readlink(registry.champion_link) == "versions/v1"
    registry.set_champion(second.version)
    assert os.readlink(registry.champion_link) == "versions/v2"
    assert registry.champion().version == "v2"
    assert [p.name for p in registry.root.iterdir() if p.name.startswith(".champion")] == []
    moved = tmp_path / "elsewhere"
    registry.root.rename(moved)  # relative: still resolves after the volume moves
    assert Registry(moved).champion().version == "v2"


def test_champion_cannot_point_at_a_missing_version(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no model version nope"):
        Registry(tmp_path / "models").set_champion("nope")


def test_events_are_json_lines_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "models")
    registry.record("trained", "v1", score=0.5)
    with open(registry.log_path, "a") as handle:
        handle.write('{"event": "prom')
    found = read_records(registry.log_path)
    assert [e["event"] for e in found.records] == ["trained"]
    assert found.skipped == 1  # counted, not fatal


def test_manifests_read_as_typed_records_old_fields_missing_or_unknown_ones_kept() -> None:
    from movie_r.errors import ArtifactError
    from movie_r.storage.manifest import Manifest

    old = Manifest.parse(b'{"version": "v1", "evaluation": {"score_name": "genre_precision@10", "score": 0.4}}', "v1")
    assert (old.kind, old.created_at, old.evaluation.score, old.files) == ("tfidf", None, 0.4, {})
    newer = Manifest.parse(b'{"version": "v2", "shards": 4}', "v2")
    assert newer.model_dump()["shards"] == 4
    with pytest.raises(ArtifactError, match=r"version v3: unreadable manifest \(params: "):
        Manifest.parse(b'{"version": "v3", "params": "all of them"}', "version v3")
