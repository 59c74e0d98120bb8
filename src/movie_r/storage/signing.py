"""Ed25519 signatures on model versions: nothing is unpickled unless a trusted key signed it.

A version's manifest holds the SHA-256 of every file beside it; the trainer signs the
manifest's bytes (`manifest.sig`), so one signature covers the whole version. Whoever can
write the storage root can still write a pickle and a matching checksum, but not a
signature: readers check the signature first, then the checksums, then unpickle.

Keys live in `MOVIE_R_KEYS_DIR` (default `<home>/keys`):
    signing.key            the private key (PKCS#8 PEM, mode 0600): only trainers read it
    trusted/<key id>.pub   public keys (PEM) whose signatures are accepted
    request-ids.secret     the API's key for the request ids feedback cites (api/request_ids.py)
The first training creates a key pair when there is none; `movie-r keys rotate` makes a
new one and keeps the old public key trusted, so versions it signed still load.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from movie_r.errors import ArtifactError

log = logging.getLogger(__name__)

PRIVATE_KEY = "signing.key"
TRUSTED_DIR = "trusted"
SIGNATURE_FILE = "manifest.sig"
REQUEST_ID_SECRET = "request-ids.secret"  # the API's key for request ids (api/request_ids.py)
ALGORITHM = "ed25519"


class SignatureError(ArtifactError):
    """A version without a signature, or with one no trusted key made: refused before unpickling."""


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    """The trainer's private key."""

    private: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id(self.private.public_key())

    def sign(self, data: bytes) -> bytes:
        """The signature document written beside the signed file."""
        signature = base64.b64encode(self.private.sign(data)).decode()
        return json.dumps({"algorithm": ALGORITHM, "key_id": self.key_id, "signature": signature}).encode()


@dataclass(frozen=True)
class Keyring:
    """The public keys a reader trusts, by key id."""

    directory: Path
    keys: dict[str, Ed25519PublicKey]

    def verify(self, data: bytes, document: bytes | None, what: str) -> str:
        """The id of the trusted key that signed `data`; raises `SignatureError` otherwise."""
        if not self.keys:
            raise SignatureError(
                f"{what}: no trusted public key in {self.directory / TRUSTED_DIR}; refusing to load anything. "
                f"Trainers create one on their first training, or run `movie-r keys create`"
            )
        if document is None:
            raise SignatureError(
                f"{what}: not signed; refusing to load it (retrain it, or vouch for it with `movie-r keys sign VERSION`)"
            )
        try:
            parsed = json.loads(document)
            public = self.keys.get(parsed["key_id"])
            signature = base64.b64decode(parsed["signature"], validate=True)
        except (ValueError, KeyError, TypeError) as exc:
            raise SignatureError(f"{what}: unreadable {SIGNATURE_FILE} ({exc}); refusing to load it") from None
        if public is None:
            raise SignatureError(f"{what}: signed by key {parsed['key_id']}, which is not trusted here; refusing to load it")
        try:
            public.verify(signature, data)
        except InvalidSignature:
            raise SignatureError(f"{what}: the signature does not match its manifest; refusing to load it") from None
        return parsed["key_id"]


def load_keyring(keys_dir: Path) -> Keyring:
    """Every public key in `keys_dir/trusted` (none when the directory does not exist)."""
    keys: dict[str, Ed25519PublicKey] = {}
    trusted = Path(keys_dir) / TRUSTED_DIR
    for path in sorted(trusted.glob("*.pub")) if trusted.is_dir() else []:
        try:
            public = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            log.warning("trusted key ignored path=%s reason=%r", path, exc)
            continue
        if isinstance(public, Ed25519PublicKey):
            keys[key_id(public)] = public
    return Keyring(Path(keys_dir), keys)


def load_signer(keys_dir: Path, create: bool = True) -> Signer:
    """The trainer's key; created (with its public key trusted) on first use when `create`."""
    path = Path(keys_dir) / PRIVATE_KEY
    if create:
        _ensure_secret(Path(keys_dir) / REQUEST_ID_SECRET)
    if not path.exists():
        if not create:
            raise SignatureError(f"no signing key at {path}; create one with `movie-r keys create`")
        return create_key(Path(keys_dir))
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise SignatureError(f"cannot read the signing key {path}: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SignatureError(f"{path} is not an Ed25519 private key")
    return Signer(private)


def create_key(keys_dir: Path) -> Signer:
    """A new key pair: the private key replaces any old one, its public key joins the trusted ones."""
    signer = Signer(Ed25519PrivateKey.generate())
    (keys_dir / TRUSTED_DIR).mkdir(parents=True, exist_ok=True)
    public = signer.private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (keys_dir / TRUSTED_DIR / f"{signer.key_id}.pub").write_bytes(public)
    private = signer.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    temporary = keys_dir / f".{PRIVATE_KEY}.new"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, keys_dir / PRIVATE_KEY)
    log.warning("created signing key key_id=%s private=%s (keep it to trainers only)", signer.key_id, keys_dir / PRIVATE_KEY)
    return signer


def _ensure_secret(path: Path) -> None:
    """Make the API's request-id secret once, beside the keys, readable by the services' user only."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another trainer made it first
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_hex(32).encode())
