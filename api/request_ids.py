"""Request ids the service issues and can recognise later, so feedback cannot be forged.

An id is `<base>.<tag>`: the base is the client's own `X-Request-ID` when it sent a safe
one (so its traces still match) or a random one, and the tag is a MAC of the base (keyed
BLAKE2b) under a secret shared by every worker and replica. `POST /feedback` accepts only ids whose tag
checks out: a client cannot invent ids, only ask for them one `/recommend` at a time.

The secret comes from `MOVIE_R_REQUEST_ID_SECRET`, else from `<keys>/request-ids.secret`
(made by trainers beside their signing key); failing both, each process makes its own,
and feedback then only verifies on the worker that answered the request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from pathlib import Path

from movie_r.signing import REQUEST_ID_SECRET

log = logging.getLogger("api.request_ids")

TAG_LENGTH = 16
MAX_BASE = 47  # so that a whole id fits the 64 characters feedback accepts
_SAFE_BASE = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_BASE}}}$")


class RequestIds:
    """Issues and verifies request ids under one secret."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(secret).digest()  # BLAKE2b keys are at most 64 bytes

    def issue(self, client_id: str | None = None) -> str:
        base = client_id if client_id is not None and _SAFE_BASE.match(client_id) else secrets.token_hex(12)
        return f"{base}.{self._tag(base)}"

    def verify(self, request_id: str) -> bool:
        base, dot, tag = request_id.rpartition(".")
        return bool(dot) and bool(_SAFE_BASE.match(base)) and hmac.compare_digest(tag, self._tag(base))

    def source(self, client: str) -> str:
        """A stable pseudonym of a client address: feedback is capped per source without keeping addresses."""
        return hashlib.blake2b(b"source:" + client.encode(), key=self._key, digest_size=6).hexdigest()

    def _tag(self, base: str) -> str:
        # keyed BLAKE2b is a MAC in one pass: every request gets an id, so this sits on the hot
        # path, where it costs about a third of HMAC-SHA256
        return hashlib.blake2b(base.encode(), key=self._key, digest_size=TAG_LENGTH // 2).hexdigest()


def load_secret(configured: str | None, keys_dir: Path) -> bytes:
    """The shared secret: configured, else the one trainers keep beside their keys, else this process's own."""
    if configured:
        return configured.encode()
    path = keys_dir / REQUEST_ID_SECRET
    try:
        return path.read_bytes().strip()
    except OSError as exc:
        log.warning(
            "request ids are verifiable on this process only: no shared secret (set MOVIE_R_REQUEST_ID_SECRET, "
            "or train once to create %s) reason=%r",
            path,
            exc,
        )
        return secrets.token_hex(32).encode()
