"""Signed versions: nothing unpickles unless a trusted key signed it; keys are created, rotated, vouched with."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pytest

from movie_r.settings import Settings
from movie_r.storage.files import file_fingerprint
from movie_r.storage.registry import Registry
from movie_r.storage.signing import SIGNATURE_FILE, SignatureError, create_key, load_keyring

from .test_cli import movie_r


class Payload:
    """A pickle that writes a file when it is loaded: what an attacker would plant."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def plant(registry: Registry, source: str, version: str, marker: Path) -> None:
    """A new version beside `source`: a malicious pickle, with a manifest whose checksum matches it."""
    target = registry.versions_dir / version
    target.mkdir()
    joblib.dump(Payload(marker), target / "pipeline.joblib")
    manifest = json.loads((registry.versions_dir / source / "manifest.json").read_text())
    manifest.update(version=version, artifact_sha256=file_fingerprint(target / "pipeline.joblib"), files={})
    (target / "manifest.json").write_text(json.dumps(manifest))
    (target / SIGNATURE_FILE).write_bytes((registry.versions_dir / source / SIGNATURE_FILE).read_bytes())  # copied along


def test_a_planted_pickle_with_a_valid_checksum_is_refused_before_unpickling(trained_home: Settings, tmp_path: Path) -> None:
    registry = Registry(trained_home.models_dir)
    marker = tmp_path / "payload-ran"
    plant(registry, registry.champion_version(), "20990101T000000Z-evil00", marker)
    with pytest.raises(SignatureError, match="the signature does not match its manifest"):
        registry.get("20990101T000000Z-evil00").load()
    (registry.versions_dir / "20990101T000000Z-evil00" / SIGNATURE_FILE).unlink()
    with pytest.raises(SignatureError, match="not signed; refusing to load it"):
        registry.get("20990101T000000Z-evil00").load()
    assert not marker.exists()


def test_a_version_signed_by_an_untrusted_key_is_refused(trained_home: Settings, tmp_path: Path) -> None:
    registry = Registry(trained_home.models_dir)
    champion = registry.champion()
    stranger = create_key(tmp_path / "stranger-keys")
    (champion.path / SIGNATURE_FILE).write_bytes(stranger.sign(champion.manifest_bytes))
    with pytest.raises(SignatureError, match=f"signed by key {stranger.key_id}, which is not trusted here"):
        registry.champion().load()


def test_without_trusted_keys_nothing_loads_and_the_error_says_how_to_make_one(trained_home: Settings, tmp_path: Path) -> None:
    registry = Registry(trained_home.models_dir, keys_dir=tmp_path / "no-keys")
    with pytest.raises(SignatureError, match=r"no trusted public key in .*`movie-r keys create`"):
        registry.champion().load()


def test_the_first_training_creates_the_key_pair_with_a_private_key_only_its_owner_reads(trained_home: Settings) -> None:
    keys = trained_home.keys_path
    assert (keys / "signing.key").stat().st_mode & 0o777 == 0o600
    assert len(load_keyring(keys).keys) == 1


def test_rotation_keeps_old_versions_loadable_and_reaches_a_running_reader(trained_home: Settings) -> None:
    from movie_r.lifecycle.fitting import load_training_data
    from movie_r.lifecycle.training import train

    running = Registry(trained_home.models_dir)  # as an API process holds it
    running.champion().load()
    rotated = movie_r("keys", "rotate", home=trained_home.home)
    assert rotated.returncode == 0, rotated.stderr
    assert len(load_keyring(trained_home.keys_path).keys) == 2
    newer = train(trained_home, load_training_data(trained_home.catalog, None), "tfidf").version.version
    assert running.get(newer).verify_signature() != running.champion().verify_signature()  # signed by the new key
    running.get(newer).load()
    running.champion().load()


def test_keys_sign_vouches_only_for_files_that_match_their_manifest(trained_home: Settings) -> None:
    registry = Registry(trained_home.models_dir)
    champion = registry.champion()
    (champion.path / SIGNATURE_FILE).unlink()  # a version saved before signing existed
    signed = movie_r("keys", "sign", champion.version, home=trained_home.home)
    assert signed.returncode == 0 and f"signed {champion.version}" in signed.stdout
    registry.champion().load()
    with open(champion.path / "pipeline.joblib", "r+b") as handle:
        handle.seek(50)
        handle.write(b"tampered")
    refused = movie_r("keys", "sign", champion.version, home=trained_home.home)
    assert refused.returncode == 1 and "checksum mismatch" in refused.stderr


def test_the_api_replicas_need_only_trusted_and_api_beside_the_private_key(trained_home: Settings) -> None:
    """`trusted/` and `api/` are what an API container mounts; the private key is in neither."""
    keys = trained_home.keys_path
    assert {path.name for path in keys.iterdir()} == {"signing.key", "trusted", "api"}
    assert {path.name for path in (keys / "api").iterdir()} == {"request-ids.secret"}
    assert not any(path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY") for path in (keys / "trusted").iterdir())


def test_a_request_id_secret_at_the_older_place_moves_into_api_unchanged(tmp_path: Path) -> None:
    from movie_r.storage.signing import load_signer, request_id_secret_path

    (tmp_path / "request-ids.secret").write_text("kept-secret")
    load_signer(tmp_path, create=True)
    assert request_id_secret_path(tmp_path).read_text() == "kept-secret"
    assert not (tmp_path / "request-ids.secret").exists()


def test_a_trusted_key_no_movie_r_command_made_is_named_in_one_warning(trained_home: Settings, caplog) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    keys = trained_home.keys_path
    caplog.set_level("WARNING", logger="movie_r.storage.signing")
    load_keyring(keys)
    assert not caplog.records  # the trainer's own key
    public = Ed25519PrivateKey.generate().public_key()
    (keys / "trusted" / "whatever.pub").write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert len(load_keyring(keys).keys) == 2  # still trusted: whoever writes trusted/ decides
    load_keyring(keys)
    [warning] = caplog.records
    assert "whatever.pub" in warning.getMessage() and "not made by `movie-r keys`" in warning.getMessage()
    listed = movie_r("keys", "list", home=trained_home.home)
    assert listed.stdout.count("not made here") == 1
