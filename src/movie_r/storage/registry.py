"""Model versions on disk, the champion symlink and the registry event log.

Layout under `<home>/models/`:
    versions/<version>/pipeline.joblib   the fitted Pipeline
    versions/<version>/manifest.json     what it is, how it scored, checksums of every file
    versions/<version>/manifest.sig      the trainer's Ed25519 signature of the manifest (`signing`)
    versions/<version>/lists.npz         each movie's default answer, precomputed (`ranked_lists`)
    versions/<version>/lists.body.npy    their JSON bytes, memory-mapped by the API workers
    champion -> versions/<version>       relative symlink, replaced atomically
    registry.jsonl                       one JSON line per lifecycle event

A version is written into a hidden temporary directory and renamed into place, so readers
(API replicas on a shared volume) only ever see complete versions. Nothing of a version
is read before its signature and then its checksums verify.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock
from pydantic import ValidationError

from movie_r.errors import ArtifactError
from movie_r.storage import journal
from movie_r.storage.files import file_fingerprint, fsync_dir, utc_now, write_synced
from movie_r.storage.layout import ModelsLayout, StorageLayout
from movie_r.storage.manifest import Manifest
from movie_r.storage.records import Event, RegistryEvent
from movie_r.storage.signing import SIGNATURE_FILE, TRUSTED_DIR, Keyring, load_keyring, load_signer

if TYPE_CHECKING:  # joblib, numpy, scipy and scikit-learn load with a model, not for `status` or `models`
    from sklearn.pipeline import Pipeline

    from movie_r.settings import StorageSettings

ARTIFACT = "pipeline.joblib"
MANIFEST = "manifest.json"


def new_version_id(now: datetime | None = None) -> str:
    """Sortable by creation time, unique across concurrent trainers: `20261126T101500Z-3fa9c1`."""
    return f"{(now or utc_now()):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class ModelVersion:
    """A complete version directory, its manifest, and the keys that may have signed it."""

    path: Path
    manifest: Manifest
    manifest_bytes: bytes
    keyring: Callable[[], Keyring]

    @property
    def version(self) -> str:
        return self.manifest.version

    def verify(self) -> None:
        """Check the signature, then every file's checksum: what must hold before a version may serve."""
        self.verify_signature()
        self.verify_checksums()

    def verify_checksums(self) -> None:
        self._checked(ARTIFACT, self.manifest.artifact_sha256)
        for name, expected in self.manifest.files.items():
            self._checked(name, expected)

    def verify_signature(self) -> str:
        """The id of the trusted key that signed this manifest; raises `SignatureError` otherwise."""
        signature = self.path / SIGNATURE_FILE
        document = signature.read_bytes() if signature.is_file() else None
        return self.keyring().verify(self.manifest_bytes, document, f"version {self.version}")

    def load(self) -> Pipeline:
        """Unpickle the pipeline, once its signature and its SHA-256 check out.

        Its arrays (neighbours, TF-IDF rows, who liked what) stay in the file, memory-mapped
        read-only: API workers on one machine share those pages through the page cache
        instead of each holding a copy, and nothing can write to a verified artifact. They
        are handed out as plain ndarray views of the mapping (`_plain_views`).
        """
        import joblib

        self.verify_signature()
        artifact = self._checked(ARTIFACT, self.manifest.artifact_sha256)
        try:
            return _plain_views(joblib.load(artifact, mmap_mode="r"), {})
        except (AttributeError, ModuleNotFoundError) as exc:  # a class this movie_r no longer has
            raise ArtifactError(
                f"version {self.version}: {ARTIFACT} was saved by an older movie_r ({exc}); retrain (`movie-r train`, "
                f"or let the agent replace it)"
            ) from exc
        except Exception as exc:  # a verified file that still fails to unpickle: library mismatch
            raise ArtifactError(f"version {self.version}: cannot load {ARTIFACT}: {exc}") from exc

    def verified_file(self, name: str) -> Path | None:
        """A file saved beside the pipeline, once the signature and its SHA-256 check out.

        None when this version was saved without it (older versions); a missing or
        altered file raises, like a bad pipeline.
        """
        expected = self.manifest.files.get(name)
        if expected is None:
            return None
        self.verify_signature()
        return self._checked(name, expected)

    def _checked(self, name: str, expected: str | None) -> Path:
        path = self.path / name
        if not path.is_file():
            raise ArtifactError(f"version {self.version}: {name} is missing")
        actual = file_fingerprint(path)
        if actual != expected:
            raise ArtifactError(
                f"version {self.version}: {name} checksum mismatch (manifest {expected}, file {actual}); refusing to load"
            )
        return path


def _plain_views(value: Any, done: dict[int, tuple[Any, Any]]) -> Any:
    """`value` with every `np.memmap` in it replaced by a plain ndarray view of the same
    mapped, read-only pages. The memmap subclass costs microseconds on every slice, and
    answering a query slices many times: enough to fail the judge's latency guardrail.

    Containers are changed in place, or rebuilt (tuples) only when an item changed: an
    object the artifact shares between several places (each genre set is one tuple for
    all its movies) stays one object, and no list of the catalogue's size is copied."""
    import numpy as np
    import scipy.sparse as sp

    if isinstance(value, np.memmap):
        return np.asarray(value)
    if isinstance(value, (str, bytes, int, float, type)):
        return value
    if id(value) in done:
        return done[id(value)][1]
    done[id(value)] = (value, value)  # the original kept alive, so its id cannot be reused meanwhile
    if type(value) is list:
        value[:] = [_plain_views(item, done) for item in value]
    elif type(value) is tuple:
        items = [_plain_views(item, done) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            rebuilt = tuple(items)
            done[id(value)] = (value, rebuilt)
            return rebuilt
    elif type(value) is dict:
        for key, item in value.items():
            value[key] = _plain_views(item, done)
    elif sp.issparse(value):
        for name in ("data", "indices", "indptr"):
            if hasattr(value, name):
                setattr(value, name, _plain_views(getattr(value, name), done))
    elif isinstance(getattr(value, "__dict__", None), dict):
        for key, item in list(value.__dict__.items()):
            value.__dict__[key] = _plain_views(item, done)
    return value


class Registry:
    """The models directory of one storage root."""

    def __init__(self, models_dir: Path, keys_dir: Path | None = None) -> None:
        layout = ModelsLayout(Path(models_dir))
        self.root = layout.root
        self.keys_dir = Path(keys_dir) if keys_dir is not None else StorageLayout(self.root.parent).keys
        self.versions_dir = layout.versions
        self.champion_link = layout.champion_link
        self.candidate_link = layout.candidate_link
        self.experiment_path = layout.experiment
        self.log_path = layout.registry_log
        self.lock_path = layout.trainer_lock
        self._keyring: Keyring | None = None
        self._keyring_stamp: int | None = None

    @classmethod
    def of(cls, settings: StorageSettings) -> Registry:
        """The registry of the storage root `settings` name (their models and keys directories)."""
        return cls(settings.models_dir, settings.keys_path)

    def keyring(self) -> Keyring:
        """The trusted public keys, read again whenever `trusted/` changes (a rotation reaches running APIs)."""
        try:
            stamp: int | None = (self.keys_dir / TRUSTED_DIR).stat().st_mtime_ns
        except OSError:
            stamp = None
        if self._keyring is None or stamp != self._keyring_stamp:
            self._keyring, self._keyring_stamp = load_keyring(self.keys_dir), stamp
        return self._keyring

    def save(
        self, pipeline: Pipeline, manifest: Manifest | Mapping[str, Any], files: Mapping[str, Callable[[Path], None]] | None = None
    ) -> ModelVersion:
        """Write a new version atomically; `manifest` (or the fields of one) gains the checksums
        of what was written, and is signed with the trainer's key (created on first use).

        `files` maps the name of each further file to the function that writes it to a path.
        Only the fields that were set are written: a reader's defaults stay the reader's.
        """
        import joblib

        if not isinstance(manifest, Manifest):
            manifest = Manifest.model_validate(manifest)
        signer = load_signer(self.keys_dir, create=True)
        version = manifest.version
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        final = self.versions_dir / version
        if final.exists():
            raise ArtifactError(f"version {version} already exists")
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=self.versions_dir))
        try:
            staging.chmod(0o755)  # mkdtemp makes it private; API replicas may run as other users
            joblib.dump(pipeline, staging / ARTIFACT)
            checksums = {}
            for name, write in (files or {}).items():
                write(staging / name)
                checksums[name] = file_fingerprint(staging / name)
            manifest = manifest.model_copy(update={"artifact_sha256": file_fingerprint(staging / ARTIFACT), "files": checksums})
            manifest.model_fields_set.update({"artifact_sha256", "files"})
            manifest_bytes = json.dumps(manifest.model_dump(mode="json", exclude_unset=True), indent=2).encode()
            write_synced(staging / MANIFEST, manifest_bytes)
            write_synced(staging / SIGNATURE_FILE, signer.sign(manifest_bytes))
            fsync_dir(staging)
            os.rename(staging, final)
            fsync_dir(self.versions_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return ModelVersion(final, Manifest.parse(manifest_bytes, f"version {version}"), manifest_bytes, self.keyring)

    def get(self, version: str) -> ModelVersion:
        path = self.versions_dir / version
        try:
            manifest_bytes = (path / MANIFEST).read_bytes()
        except FileNotFoundError:
            raise ArtifactError(f"no model version {version} in {self.versions_dir}") from None
        except OSError as exc:
            raise ArtifactError(f"version {version}: unreadable {MANIFEST}: {exc}") from None
        manifest = Manifest.parse(manifest_bytes, f"version {version}")
        if manifest.version != version:
            raise ArtifactError(f"version {version}: {MANIFEST} describes another version; refusing it")
        return ModelVersion(path, manifest, manifest_bytes, self.keyring)

    def versions(self) -> list[ModelVersion]:
        """Complete versions, oldest first (temporary directories are hidden and skipped)."""
        if not self.versions_dir.is_dir():
            return []
        names = sorted(p.name for p in self.versions_dir.iterdir() if not p.name.startswith(".") and p.is_dir())
        found = []
        for name in names:
            try:
                found.append(self.get(name))
            except ArtifactError:
                continue
        return found

    def champion_version(self) -> str | None:
        """The version the champion symlink points at, or None."""
        return _linked_version(self.champion_link)

    def champion(self) -> ModelVersion | None:
        version = self.champion_version()
        return self.get(version) if version else None

    def set_champion(self, version: str) -> None:
        """Point `champion` at `version` atomically: a new relative link renamed over the old."""
        self._link(self.champion_link, version)

    def candidate_version(self) -> str | None:
        """The version an online experiment serves beside the champion, or None."""
        return _linked_version(self.candidate_link)

    def set_candidate(self, version: str) -> None:
        """Point `candidate` at `version`, atomically as the champion link."""
        self._link(self.candidate_link, version)

    def clear_candidate(self) -> None:
        self.candidate_link.unlink(missing_ok=True)
        fsync_dir(self.root)

    def _link(self, link: Path, version: str) -> None:
        self.get(version)  # refuse versions that do not exist or lack a manifest
        temporary = self.root / f".{link.name}.{secrets.token_hex(4)}"
        os.symlink(os.path.relpath(self.versions_dir / version, self.root), temporary)
        try:
            os.replace(temporary, link)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        fsync_dir(self.root)

    def trainer_lock(self) -> FileLock:
        """The lock that keeps to one the processes writing versions (agents, manual retrains)."""
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(self.lock_path)

    def remove_staging_leftovers(self) -> list[str]:
        """Delete temporary version directories a killed trainer left behind; call with the lock held."""
        if not self.versions_dir.is_dir():
            return []
        leftovers = [p for p in self.versions_dir.iterdir() if p.name.startswith(".") and p.is_dir()]
        for path in leftovers:
            shutil.rmtree(path, ignore_errors=True)
        return [p.name for p in leftovers]

    def remove(self, version: str) -> None:
        """Delete a version: hidden first (one rename), then removed, so no reader sees it half gone."""
        if version == self.champion_version():
            raise ArtifactError(f"version {version} is the champion; it cannot be removed")
        if version == self.candidate_version():
            raise ArtifactError(f"version {version} is an experiment's candidate; end the experiment first")
        hidden = self.versions_dir / f".removing-{version}"
        os.rename(self.versions_dir / version, hidden)
        shutil.rmtree(hidden, ignore_errors=True)

    def record(self, event: Event, version: str | None, **details: Any) -> RegistryEvent:
        """Append one lifecycle event to `registry.jsonl` (single write, O_APPEND)."""
        entry = RegistryEvent(time=utc_now(), event=event, version=version, **details)
        journal.append_record(self.log_path, {**entry.to_json(), "version": version})
        return entry

    def events(self) -> list[RegistryEvent]:
        """Every event, oldest first; a line that is not an event (torn, or another tool's) is skipped."""
        events = []
        for record in journal.read_records(self.log_path).records:
            try:
                events.append(RegistryEvent.model_validate(record))
            except ValidationError:
                continue
        return events


def _linked_version(link: Path) -> str | None:
    """The version a link into versions/ names, or None where there is no link."""
    try:
        target = os.readlink(link)
    except (FileNotFoundError, OSError):
        return None
    return Path(target).name
