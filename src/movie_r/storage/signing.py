"""Ed25519 signatures on model versions: nothing is unpickled unless a trusted key signed it.

A version's manifest holds the SHA-256 of every file beside it; the trainer signs the
manifest's bytes (`manifest.sig`), so one signature covers the whole version. Whoever can
write the storage root can still write a pickle and a matching checksum, but not a
signature: readers check the signature first, then the checksums, then unpickle.

Keys live in `MOVIE_R_KEYS_DIR` (default `<home>/keys`):
    signing.key                the private key (PKCS#8 PEM, mode 0600): only trainers read it
    trusted/<key id>.pub       public keys (PEM) whose signatures are accepted
    trusted/keys.jsonl         one line per key `movie-r keys` or a trainer made here
    api/request-ids.secret     the API's key for the request ids feedback cites (api/request_ids.py)
The API replicas need `trusted/` and `api/` only, so they can be given those two directories
without the private key. The first training creates a key pair when there is none;
`movie-r keys rotate` makes a new one and keeps the old public key trusted, so versions it
signed still load. Whoever can write `trusted/` decides what every reader unpickles: a key
that appears there without a line in `keys.jsonl` is loaded, and named in a warning.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from movie_r.errors import ArtifactError

log = logging.getLogger(__name__)

PRIVATE_KEY = "signing.key"
TRUSTED_DIR = "trusted"
SIGNATURE_FILE = "manifest.sig"
API_DIR = "api"  # what the API replicas read besides trusted/
REQUEST_ID_SECRET = "request-ids.secret"  # the API's key for request ids (api/request_ids.py)
MADE_HERE = "keys.jsonl"  # in trusted/: the keys this storage root's own tools made
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


def request_id_secret_path(keys_dir: Path) -> Path:
    return Path(keys_dir) / API_DIR / REQUEST_ID_SECRET


_warned_foreign: set[str] = set()  # one warning per foreign key per process, not one per reload


def load_keyring(keys_dir: Path) -> Keyring:
    """Every public key in `keys_dir/trusted` (none when the directory does not exist).

    A key no `movie-r keys` command or trainer made here (none of its ids in `keys.jsonl`)
    is still trusted, as the directory's writer decided, but said once in a warning.
    """
    keys: dict[str, Ed25519PublicKey] = {}
    trusted = Path(keys_dir) / TRUSTED_DIR
    made_here = made_here_ids(Path(keys_dir))
    for path in sorted(trusted.glob("*.pub")) if trusted.is_dir() else []:
        try:
            public = serialization.load_pem_public_key(path.read_bytes())
        except (OSError, ValueError) as exc:
            log.warning("trusted key ignored path=%s reason=%r", path, exc)
            continue
        if isinstance(public, Ed25519PublicKey):
            identity = key_id(public)
            keys[identity] = public
            if identity not in made_here and identity not in _warned_foreign:
                _warned_foreign.add(identity)
                log.warning(
                    "trusted key %s (%s) was not made by `movie-r keys` or a trainer here (not in %s); "
                    "every reader loads what it signs: remove it unless it was put there on purpose",
                    identity, path, trusted / MADE_HERE,
                )  # fmt: skip
    return Keyring(Path(keys_dir), keys)


def made_here_ids(keys_dir: Path) -> set[str]:
    """Key ids `keys.jsonl` lists: the keys this storage root's own tools made."""
    try:
        lines = (Path(keys_dir) / TRUSTED_DIR / MADE_HERE).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    ids = set()
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if isinstance(record, dict) and isinstance(record.get("key_id"), str):
            ids.add(record["key_id"])
    return ids


def load_signer(keys_dir: Path, create: bool = True) -> Signer:
    """The trainer's key; created (with its public key trusted) on first use when `create`."""
    path = Path(keys_dir) / PRIVATE_KEY
    if create:
        ensure_request_id_secret(Path(keys_dir))
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
    signer = Signer(private)
    if create and signer.key_id not in made_here_ids(Path(keys_dir)):
        _record_made_here(Path(keys_dir), signer.key_id, "trainer: this storage root's signing key")
    return signer


def create_key(keys_dir: Path, by: str = "trainer") -> Signer:
    """A new key pair: the private key replaces any old one, its public key joins the trusted
    ones, and `trusted/keys.jsonl` records that it was made here (`by` says by what)."""
    signer = Signer(Ed25519PrivateKey.generate())
    (keys_dir / TRUSTED_DIR).mkdir(parents=True, exist_ok=True)
    public = signer.private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    _record_made_here(keys_dir, signer.key_id, by)
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


def _record_made_here(keys_dir: Path, identity: str, by: str) -> None:
    record = {"key_id": identity, "created_at": datetime.now(UTC).isoformat(), "by": by}
    (keys_dir / TRUSTED_DIR).mkdir(parents=True, exist_ok=True)
    with open(keys_dir / TRUSTED_DIR / MADE_HERE, "a", encoding="utf-8") as made:
        made.write(json.dumps(record) + "\n")


def ensure_request_id_secret(keys_dir: Path) -> None:
    """Make the API's request-id secret when there is none, readable by the services' user only.

    A secret at the older place (`keys/request-ids.secret`, beside the private key) is moved
    into `api/`, so the replicas keep verifying the ids they issued.
    """
    path = request_id_secret_path(keys_dir)
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    legacy = Path(keys_dir) / REQUEST_ID_SECRET
    if legacy.is_file():
        try:
            os.link(legacy, path)
            legacy.unlink()
            return
        except FileExistsError:
            return
        except OSError:
            pass  # a mount that cannot link: a new secret below
    write_new_secret(path, secrets.token_hex(32).encode())


def write_new_secret(path: Path, secret: bytes) -> bool:
    """Put `secret` at `path` (mode 0600) only if no file is there; True when this call did.

    Written aside and hard-linked into place, so no reader ever sees a half-written secret.
    """
    aside = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return False
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secret)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(aside, path)
    except OSError:
        return False
    finally:
        aside.unlink(missing_ok=True)
    return True
