"""Damaged model versions for the API's refusal tests."""

from __future__ import annotations

import json
import shutil

from movie_r.storage.registry import Registry
from movie_r.storage.signing import SIGNATURE_FILE, load_signer


def corrupt_copy(registry: Registry, source: str, version: str, file: str) -> None:
    """Copy version `source` as `version`, signed by the trainer, then damage `file` on disk so its checksum fails."""
    shutil.copytree(registry.versions_dir / source, registry.versions_dir / version)
    manifest = registry.versions_dir / version / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "version": version}))
    resign(registry, version)
    with open(registry.versions_dir / version / file, "r+b") as handle:
        handle.seek(100)
        handle.write(b"corruption")


def resign(registry: Registry, version: str) -> None:
    """Sign `version`'s manifest as it now is, with the home's signing key (as a trainer would have)."""
    directory = registry.versions_dir / version
    signature = load_signer(registry.keys_dir, create=False).sign((directory / "manifest.json").read_bytes())
    (directory / SIGNATURE_FILE).write_bytes(signature)
