"""Request ids the service issues and can recognise later, so feedback cannot be forged.

An id is `<base>.<tag>`: the base is the client's own `X-Request-ID` when it sent a safe
one (so its traces still match) or a random one, and the tag is a MAC of the base (keyed
BLAKE2b) under a secret shared by every worker and replica. `POST /feedback` accepts only ids whose tag
checks out: a client cannot invent ids, only ask for them one `/recommend` at a time.

The secret comes from `MOVIE_R_REQUEST_ID_SECRET`, else from `<keys>/request-ids.secret`
(made by trainers beside their signing key, and by the agent when it starts); failing both,
each process makes its own, and feedback then only verifies on the worker that answered the
request, until the shared file appears: it is looked for every few seconds and adopted then.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from pathlib import Path

from movie_r.storage.signing import REQUEST_ID_SECRET

log = logging.getLogger(__name__)

TAG_LENGTH = 16
MAX_BASE = 47  # so that a whole id fits the 64 characters feedback accepts
_SAFE_BASE = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_BASE}}}$")
LOOK_AGAIN = 2.0  # seconds between looks for the shared secret while this process uses its own


class RequestIds:
    """Issues and verifies request ids under one secret.

    With `shared_file`, `secret` is this process's own stand-in and the shared secret is
    adopted once that file exists (ids issued before then stop verifying, which only
    happens before the first agent or training of a new storage root).
    """

    def __init__(self, secret: bytes, shared_file: Path | None = None) -> None:
        self._key = hashlib.sha256(secret).digest()  # BLAKE2b keys are at most 64 bytes
        self._shared_file = shared_file
        self._look_at = time.monotonic() + LOOK_AGAIN

    @classmethod
    def load(cls, configured: str | None, keys_dir: Path) -> RequestIds:
        """Under the configured secret, else the one trainers keep beside their keys, else this process's own."""
        if configured:
            return cls(configured.encode())
        path = keys_dir / REQUEST_ID_SECRET
        try:
            return cls(path.read_bytes().strip())
        except OSError as exc:
            log.warning(
                "request ids are verifiable on this process only until %s exists (the agent makes it when it "
                "starts; or set MOVIE_R_REQUEST_ID_SECRET) reason=%r",
                path,
                exc,
            )
            return cls(secrets.token_hex(32).encode(), shared_file=path)

    def issue(self, client_id: str | None = None) -> str:
        base = client_id if client_id is not None and _SAFE_BASE.match(client_id) else secrets.token_hex(12)
        return f"{base}.{self._tag(base)}"

    def verify(self, request_id: str) -> bool:
        base, dot, tag = request_id.rpartition(".")
        return bool(dot) and bool(_SAFE_BASE.match(base)) and hmac.compare_digest(tag, self._tag(base))

    def source(self, client: str) -> str:
        """A stable pseudonym of a client address: feedback is capped per source without keeping addresses."""
        return hashlib.blake2b(b"source:" + client.encode(), key=self._key, digest_size=6).hexdigest()

    def _adopt_shared(self) -> None:
        """Switch to the shared secret once its file exists; looks at most every LOOK_AGAIN seconds."""
        if self._shared_file is None or time.monotonic() < self._look_at:
            return
        self._look_at = time.monotonic() + LOOK_AGAIN
        try:
            secret = self._shared_file.read_bytes().strip()
        except OSError:
            return
        if secret:
            self._key, self._shared_file = hashlib.sha256(secret).digest(), None
            log.info("request ids now use the shared secret")

    def _tag(self, base: str) -> str:
        if self._shared_file is not None:
            self._adopt_shared()
        # keyed BLAKE2b is a MAC in one pass: every request gets an id, so this sits on the hot
        # path, where it costs about a third of HMAC-SHA256
        return hashlib.blake2b(base.encode(), key=self._key, digest_size=TAG_LENGTH // 2).hexdigest()

