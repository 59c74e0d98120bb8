"""What can be checked of the deployment without a Docker engine.

The compose file validates with docker-compose, the Dockerfile passes hadolint, and the
images' entry points (`movie-r serve`, `movie-r agent`) start from a clean venv installed
exactly as the Dockerfile installs them: requirements.txt, then the package without deps.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from ..conftest import REPO
from ..processes import free_port, stop, wait_until

pytestmark = pytest.mark.slow


def compose_config(env: dict[str, str] | None = None) -> dict:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose; .ci/run does)")
    done = subprocess.run(
        ["docker-compose", "-f", str(REPO / "docker-compose.yml"), "config"],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_file_validates_and_splits_the_storage_root_by_writer() -> None:
    config = compose_config({"MOVIE_R_RUNTIME": "/srv/movie_r"})
    api, agent, proxy = (config["services"][name] for name in ("api", "agent", "proxy"))
    assert api["build"]["target"] == "api" and agent["build"]["target"] == "agent" and proxy["build"]["target"] == "proxy"
    assert [volume.split(":") for volume in agent["volumes"]] == [["/srv/movie_r", "/var/lib/movie_r", "rw"]]
    mounts = {volume.split(":")[1].removeprefix("/var/lib/movie_r/"): volume.split(":") for volume in api["volumes"]}
    assert {part: (source, mode) for part, (source, _, mode) in mounts.items()} == {
        "models": ("/srv/movie_r/models", "ro"),
        "keys/trusted": ("/srv/movie_r/keys/trusted", "ro"),  # never keys/signing.key
        "keys/api": ("/srv/movie_r/keys/api", "ro"),
        "reports": ("/srv/movie_r/reports", "ro"),
        "metrics": ("/srv/movie_r/metrics", "rw"),
    }
    assert api["depends_on"]["agent"]["condition"] == "service_healthy"
    assert api["restart"] == agent["restart"] == proxy["restart"] == "unless-stopped"
    assert "/ready" in " ".join(api["healthcheck"]["test"]) and "movie_r_agents.health" in agent["healthcheck"]["test"]
    assert "user" not in api and "user" not in agent  # the entrypoint chooses the service user and drops to it
    assert "image" not in api and "image" not in agent and "image" not in proxy  # named per compose project
    assert "ports" not in api  # one address: the proxy's
    assert proxy["ports"] == ["127.0.0.1:8000:8080/tcp"]  # docker-compose 1.29's rendering
    everywhere = compose_config({"MOVIE_R_BIND": "0.0.0.0", "MOVIE_R_PROXY_PORT": "9000"})["services"]["proxy"]["ports"]
    assert everywhere == ["0.0.0.0:9000:8080/tcp"]


def test_compose_passes_configuration_through_the_environment() -> None:
    config = compose_config({"MOVIE_R_ADMIN_TOKEN": "t0ken", "MOVIE_R_COLD_START_RATE_MAX": "0.5"})
    assert config["services"]["api"]["environment"]["MOVIE_R_ADMIN_TOKEN"] == "t0ken"
    assert config["services"]["agent"]["environment"]["MOVIE_R_COLD_START_RATE_MAX"] == "0.5"


def test_dockerfile_passes_hadolint() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    done = subprocess.run([str(hadolint), str(REPO / "docker" / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_drops_to_a_non_root_user_with_healthchecks_and_stop_signal() -> None:
    text = (REPO / "docker" / "Dockerfile").read_text()
    assert "ARG BASE=python:3.11-slim" in text and "FROM ${BASE} AS build" in text
    assert "COPY --from=build /opt/venv /opt/venv" in text
    assert 'ENTRYPOINT ["movie-r-entrypoint"]' in text  # root only to own the storage root, then setpriv
    entrypoint = (REPO / "docker" / "entrypoint.sh").read_text()
    assert "exec setpriv --reuid" in entrypoint and "refusing to run as root" in entrypoint
    assert text.count('CMD ["as-service"') == 2  # healthchecks as the service user too
    assert text.count("HEALTHCHECK") == 3 and "/ready" in text and "movie_r_agents.health" in text
    assert "STOPSIGNAL SIGTERM" in text
    assert "requirements-dev" not in text  # no test tools in the image
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "tests", "models", "metrics", "reports", "runtime"} <= set(ignored)


@pytest.mark.deploy
def test_entry_points_start_from_a_clean_venv_built_like_the_image(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for part in ("requirements.txt", "pyproject.toml", "README.md"):  # what the Dockerfile copies
        shutil.copy(REPO / part, source / part)
    for part in ("src", "api", "agents", "data"):
        shutil.copytree(REPO / part, source / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(source / "requirements.txt")], check=True, timeout=600)
    subprocess.run([*pip, "--no-deps", str(source)], check=True, timeout=600)
    movie_r = str(venv / "bin" / "movie-r")
    home = tmp_path / "home"
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "MOVIE_R_HOME": str(home),
        "MOVIE_R_CATALOG": str(source / "data" / "catalog.csv.gz"),
        "MOVIE_R_INTERACTIONS": "",
    }
    once = subprocess.run([movie_r, "agent", "--once"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert once.returncode == 0, once.stderr
    assert "FIRST CHAMPION" in once.stdout
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 -- the server writes to it until stopped
    serve = subprocess.Popen([movie_r, "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=log, stderr=log, start_new_session=True)
    try:
        assert wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/ready").status_code == 200, timeout=60)
        body = httpx.get(f"http://127.0.0.1:{port}/recommend", params={"movie": "toy story"}).json()
        assert "Toy Story 2" in [item["title"] for item in body["recommendations"]]
    finally:
        stop(serve)


def test_compose_passes_every_setting_but_the_ones_the_images_fix() -> None:
    """The list in docker-compose.yml is written by hand: it must follow the settings object."""
    from movie_r.settings import Settings

    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    passed = {entry.split("=")[0] for entry in compose["x-movie-r"]["environment"] if entry.startswith("MOVIE_R_")}
    fixed_by_the_images = {"MOVIE_R_HOME", "MOVIE_R_HOST", "MOVIE_R_PORT"}  # the mount point and the container port
    for_the_entrypoint = {"MOVIE_R_UID", "MOVIE_R_GID"}  # the service user (docker/entrypoint.sh)
    assert passed == {f"MOVIE_R_{name.upper()}" for name in Settings.model_fields} - fixed_by_the_images | for_the_entrypoint
