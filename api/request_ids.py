"""Request ids the service issues and can recognise later, so feedback cannot be forged.

Every response carries an id `<base>.<tag>`: the base is the client's own `X-Request-ID`
when it sent a safe one (so its traces still match) or a random one, and the tag is a MAC
of the base (keyed BLAKE2b) under a secret shared by every worker and replica.

A served `/recommend` answer carries an answer id instead, `<base>.<version>.<movies>.<tag>`:
the version that answered and the ids of the movies it recommended (sorted, delta-coded
varints in base64url) are inside the MAC. `POST /feedback` checks that tag and reads the
version and the movies back from the id itself, so any replica can tell, without shared
state or a lookup, that the answer existed, which version served it and whether the movie
the feedback names was in it. Its size is bounded by `MAX_ANSWER_ID`.

The secret comes from `MOVIE_R_REQUEST_ID_SECRET`, else from `<keys>/api/request-ids.secret`
(made by trainers beside their signing key, and by the agent while it runs). The file is
watched: a process adopts whatever secret it holds, puts its own back when the file is
deleted and it may write there, and makes one when a storage root has none, so replicas
over one storage root converge on one secret instead of each keeping its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from movie_r.storage.signing import request_id_secret_path, write_new_secret

log = logging.getLogger(__name__)

TAG_LENGTH = 16
MAX_BASE = 47
_SAFE_BASE = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_BASE}}}$")
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,99}$")  # schemas.VERSION_PATTERN
_MOVIES = re.compile(r"^[A-Za-z0-9_-]*$")
LOOK_AGAIN = 2.0  # seconds between looks at the shared secret's file
MAX_ANSWER_MOVIES = 100  # inference.MAX_K
# base, version (100), up to MAX_ANSWER_MOVIES ids of up to 10 varint bytes in base64, tag, dots
MAX_ANSWER_ID = MAX_BASE + 100 + (MAX_ANSWER_MOVIES * 10 * 4 + 2) // 3 + TAG_LENGTH + 3


@dataclass(frozen=True)
class CitedAnswer:
    """What a verified answer id says: which version answered and which movies it recommended."""

    request_id: str
    version: str
    movie_ids: frozenset[int]


def encode_movies(movie_ids: list[int] | tuple[int, ...]) -> str:
    """The movie-ids part of an answer id: sorted, zigzag delta varints, base64url unpadded."""
    out, previous = bytearray(), 0
    for movie_id in sorted(set(movie_ids))[:MAX_ANSWER_MOVIES]:
        delta = movie_id - previous
        previous = movie_id
        value = (delta << 1) ^ (delta >> 63)  # zigzag: the first id may be negative
        value &= (1 << 64) - 1
        while True:
            byte = value & 0x7F
            value >>= 7
            out.append(byte | (0x80 if value else 0))
            if not value:
                break
    return base64.urlsafe_b64encode(bytes(out)).rstrip(b"=").decode()


def decode_movies(text: str) -> frozenset[int] | None:
    """The movie ids of `encode_movies`, or None when the text is not such an encoding."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return None
    ids, previous, value, shift = [], 0, 0, 0
    for byte in raw:
        value |= (byte & 0x7F) << shift
        shift += 7
        if shift > 70:
            return None
        if byte & 0x80:
            continue
        delta = (value >> 1) ^ -(value & 1)
        previous += delta
        ids.append(previous)
        value, shift = 0, 0
    if shift or len(ids) > MAX_ANSWER_MOVIES:
        return None
    return frozenset(ids)


class RequestIds:
    """Issues and verifies request ids under one secret, kept in step with the shared file.

    `shared_file` is where replicas share the secret (None when it was configured in the
    environment); `refresh()`, called every few seconds, adopts what the file holds.
    """

    def __init__(self, secret: bytes, shared_file: Path | None = None) -> None:
        self._secret = secret
        self._key = hashlib.sha256(secret).digest()  # BLAKE2b keys are at most 64 bytes
        self._shared_file = shared_file
        self._missing_said = False

    @classmethod
    def load(cls, configured: str | None, keys_dir: Path) -> RequestIds:
        """Under the configured secret, else the shared file's (made when missing and writable), else a stand-in."""
        if configured:
            return cls(configured.encode())
        path = request_id_secret_path(keys_dir)
        secret = _read(path)
        if secret is None:
            secret = secrets.token_hex(32).encode()
            if write_new_secret(path, secret):
                log.warning("request ids: made the shared secret %s (none existed)", path)
            else:
                secret = _read(path) or secret
        ids = cls(secret, shared_file=path)
        if _read(path) != secret:
            ids._missing_said = True
            log.warning(
                "request ids are verifiable on this process only until %s exists (the agent makes it; "
                "or set MOVIE_R_REQUEST_ID_SECRET)",
                path,
            )
        return ids

    def refresh(self) -> None:
        """Adopt the shared file's secret; when the file is gone, put this one back if allowed.

        One log line when the secret changes and one when the file goes missing.
        """
        if self._shared_file is None:
            return
        secret = _read(self._shared_file)
        if secret is None:
            if write_new_secret(self._shared_file, self._secret):
                log.warning("request ids: %s was missing; wrote back the secret this process uses", self._shared_file)
                self._missing_said = False
            elif not self._missing_said:
                self._missing_said = True
                log.warning(
                    "request ids: %s is missing and not writable here; keeping the secret in memory until it reappears",
                    self._shared_file,
                )
            return
        self._missing_said = False
        if secret != self._secret:
            self._secret, self._key = secret, hashlib.sha256(secret).digest()
            log.warning("request ids now use the shared secret in %s; ids issued under the previous one no longer verify", self._shared_file)

    def issue(self, client_id: str | None = None) -> str:
        base = client_id if client_id is not None and _SAFE_BASE.match(client_id) else secrets.token_hex(12)
        return f"{base}.{self._tag(base)}"

    def issue_answer(self, request_id: str, version_and_movies: str) -> str:
        """The answer id for `request_id` (as `issue` made it): `version_and_movies` is `<version>.<encode_movies>`."""
        base = request_id.partition(".")[0]
        body = f"{base}.{version_and_movies}"
        return f"{body}.{self._tag(body)}"

    def verify(self, request_id: str) -> bool:
        base, dot, tag = request_id.rpartition(".")
        return bool(dot) and bool(_SAFE_BASE.match(base)) and hmac.compare_digest(tag, self._tag(base))

    def cited(self, answer_id: str) -> CitedAnswer | None:
        """The answer an answer id names, or None unless this service issued it."""
        if len(answer_id) > MAX_ANSWER_ID:
            return None
        body, dot, tag = answer_id.rpartition(".")
        base, _, rest = body.partition(".")
        version, _, movies = rest.rpartition(".")
        if not (dot and _SAFE_BASE.match(base) and _VERSION.match(version) and _MOVIES.match(movies)):
            return None
        if not hmac.compare_digest(tag, self._tag(body)):
            return None
        movie_ids = decode_movies(movies)
        return None if movie_ids is None else CitedAnswer(answer_id, version, movie_ids)

    def source(self, client: str) -> str:
        """A stable pseudonym of a client address: feedback is capped per source without keeping addresses."""
        return hashlib.blake2b(b"source:" + client.encode(), key=self._key, digest_size=6).hexdigest()

    def _tag(self, text: str) -> str:
        # keyed BLAKE2b is a MAC in one pass: every request gets an id, so this sits on the hot
        # path, where it costs about a third of HMAC-SHA256
        return hashlib.blake2b(text.encode(), key=self._key, digest_size=TAG_LENGTH // 2).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        secret = path.read_bytes().strip()
    except OSError:
        return None
    return secret or None
