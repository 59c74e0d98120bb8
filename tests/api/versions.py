"""Damaged model versions for the API's refusal tests."""

from __future__ import annotations

import json
import shutil

from movie_r.registry import Registry


def corrupt_copy(registry: Registry, source: str, version: str, file: str) -> None:
    """Copy version `source` as `version`, with bytes of `file` overwritten so its checksum fails."""
    shutil.copytree(registry.versions_dir / source, registry.versions_dir / version)
    manifest = registry.versions_dir / version / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "version": version}))
    with open(registry.versions_dir / version / file, "r+b") as handle:
        handle.seek(100)
        handle.write(b"corruption")
