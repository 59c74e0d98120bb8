"""`movie-r keys`: the signing key pair that makes model versions trusted (see `signing`)."""

from __future__ import annotations

import argparse

from movie_r.errors import MovieRError
from movie_r.settings import Settings


def add_keys_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    sub = commands.add_parser("keys", parents=[common], help="the key pair that signs model versions")
    sub.add_argument("action", choices=["list", "create", "rotate", "sign"], help="what to do (default list)", nargs="?")
    sub.add_argument("versions", nargs="*", help="with `sign`: versions to vouch for")
    sub.set_defaults(handler=None, keys_handler=run_keys)


def run_keys(args: argparse.Namespace, settings: Settings) -> int:
    from movie_r.storage.registry import Registry
    from movie_r.storage.signing import PRIVATE_KEY, SIGNATURE_FILE, create_key, load_keyring, load_signer, made_here_ids

    directory = settings.keys_path
    action = args.action or "list"
    if action == "create":
        if (directory / PRIVATE_KEY).exists():
            raise MovieRError(f"a signing key already exists at {directory / PRIVATE_KEY}; `movie-r keys rotate` replaces it")
        print(f"created key {create_key(directory, by='movie-r keys create').key_id} in {directory}")
    elif action == "rotate":
        old = load_signer(directory, create=False).key_id if (directory / PRIVATE_KEY).exists() else None
        print(f"signing with new key {create_key(directory, by='movie-r keys rotate').key_id}; {old or 'no earlier key'} stays trusted for the versions it signed")
    elif action == "sign":
        if not args.versions:
            raise MovieRError("keys sign: name the versions to vouch for")
        registry, signer = Registry(settings.models_dir, directory), load_signer(directory, create=False)
        for name in args.versions:
            version = registry.get(name)
            version.verify_checksums()  # vouch only for files that are what the manifest says
            (version.path / SIGNATURE_FILE).write_bytes(signer.sign(version.manifest_bytes))
            print(f"signed {name} with key {signer.key_id}")
    else:
        signing = load_signer(directory, create=False).key_id if (directory / PRIVATE_KEY).exists() else None
        keyring = load_keyring(directory)
        print(f"keys in {directory}" + ("" if keyring.keys else ": none; trainers create one on their first training"))
        made_here = made_here_ids(directory)
        for key in keyring.keys:
            notes = [note for note, applies in (("signs new versions", key == signing), ("not made here", key not in made_here)) if applies]
            print(f"  {key}" + (f"  ({'; '.join(notes)})" if notes else ""))
    return 0
