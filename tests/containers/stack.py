"""A compose project of this repository on the real Docker engine, for the container suite.

Each `Stack` is its own compose project over its own storage root on the host (the
compose file's MOVIE_R_RUNTIME) and its own published port, so runs never touch
`./runtime` or each other.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..conftest import REPO
from ..processes import free_port, wait_until

BASE_IMAGE = "movie_r-base:bookworm"  # docker/build-base.sh


def compose_command() -> list[str] | None:
    """`docker-compose` (v1, Debian's) or `docker compose` (v2), whichever this machine has."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


def engine_problem() -> str | None:
    """Why the container suite cannot run here, or None."""
    if shutil.which("docker") is None:
        return "no docker command"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if info.returncode != 0:
        return f"`docker info` failed: {(info.stderr.strip().splitlines() or ['?'])[-1]}"
    if compose_command() is None:
        return "neither docker-compose nor `docker compose` is installed"
    return None


def base_image() -> str:
    """MOVIE_R_BASE when set; else the locally built base when there is one; else the Dockerfile's default."""
    configured = os.environ.get("MOVIE_R_BASE")
    if configured:
        return configured
    present = subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True).returncode == 0
    return BASE_IMAGE if present else "python:3.11-slim"


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done


SERVICE_UID = 10001  # the images' own user (docker/Dockerfile), taken when the storage root is root's


@dataclass
class Stack:
    """One compose project: its name, storage root, published port, and the user it is told to
    run as (MOVIE_R_UID/MOVIE_R_GID; None: the entrypoint chooses)."""

    name: str
    root: Path
    uid: int | None = None
    gid: int | None = None
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def owner(self) -> tuple[int, int]:
        """Who the services run as: the uid given, else the storage root's owner unless that is root."""
        if self.uid is not None:
            return self.uid, self.gid if self.gid is not None else self.uid
        stat = self.root.stat()
        return (stat.st_uid, stat.st_gid) if stat.st_uid != 0 else (SERVICE_UID, SERVICE_UID)

    def image(self, service: str) -> str:
        """The image compose built for `service`: named after the project (v1 `p_s`, v2 `p-s`)."""
        for name in (f"{self.name}_{service}", f"{self.name}-{service}"):
            if docker("image", "inspect", name, check=False).returncode == 0:
                return name
        raise AssertionError(f"no image of service {service} for project {self.name}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "MOVIE_R_BASE": base_image(),
            "MOVIE_R_RUNTIME": str(self.root),
            "MOVIE_R_PROXY_PORT": str(self.port),
            **({"MOVIE_R_UID": str(self.uid)} if self.uid is not None else {}),
            **({"MOVIE_R_GID": str(self.gid)} if self.gid is not None else {}),
            **self.env,
        }

    def compose_prefix(self) -> list[str]:
        """The compose command for this project, before its subcommand."""
        return [*(compose_command() or ["docker-compose"]), "-p", self.name, "-f", str(REPO / "docker-compose.yml")]

    def compose(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        command = [*self.compose_prefix(), *args]
        done = subprocess.run(command, capture_output=True, text=True, env=self.environment(), cwd=REPO, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(command[1:])} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def containers(self, service: str) -> list[str]:
        """Names of the service's containers, running or not, by replica number."""
        done = docker(
            "ps", "-a", "--filter", f"label=com.docker.compose.project={self.name}",
            "--filter", f"label=com.docker.compose.service={service}", "--format", "{{.Names}}",
        )  # fmt: skip
        return sorted(done.stdout.split())

    def inspect(self, container: str) -> dict:
        return json.loads(docker("inspect", container).stdout)[0]

    def health(self, container: str) -> str:
        state = self.inspect(container)["State"]
        return state.get("Health", {}).get("Status", state["Status"])

    def address(self, container: str) -> str:
        """The container's address on the project network, reachable from this host."""
        networks = self.inspect(container)["NetworkSettings"]["Networks"]
        return next(iter(networks.values()))["IPAddress"]

    def wait_healthy(self, service: str, replicas: int = 1, timeout: float = 240) -> float:
        """Seconds until `replicas` containers of `service` report healthy."""
        started = time.monotonic()

        def healthy() -> bool:
            names = self.containers(service)
            return len(names) >= replicas and sum(self.health(name) == "healthy" for name in names) >= replicas

        assert wait_until(healthy, timeout, interval=0.5), f"{service}: not {replicas} healthy in {timeout} s: {self.logs(service)[-3000:]}"
        return time.monotonic() - started

    def logs(self, service: str) -> str:
        return self.compose("logs", "--no-color", service, check=False).stdout

    def exec(self, service: str, *command: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return self.compose("exec", "-T", service, *command, timeout=timeout)

    def kill_main_process(self, container: str) -> None:
        """SIGKILL the container's main process from the host: a crash, which the restart policy answers
        (`docker kill` would count as an operator's stop, which it does not)."""
        pid = self.inspect(container)["State"]["Pid"]
        os.kill(pid, 9)

    def versions_on_host(self) -> dict[str, set[str]]:
        """Every directory under models/versions on the host and the files in it."""
        versions = self.root / "models" / "versions"
        return {p.name: {f.name for f in p.iterdir()} for p in versions.iterdir()} if versions.is_dir() else {}

    def champion_on_host(self) -> str | None:
        link = self.root / "models" / "champion"
        return Path(os.readlink(link)).name if link.is_symlink() else None

    def process_users(self, container: str) -> set[str]:
        """The uid of every process running in the container, as `docker top` lists them."""
        lines = docker("top", container, "-o", "pid,uid").stdout.splitlines()[1:]  # the engine needs the pid column
        return {line.split()[1] for line in lines if line.strip()}

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "10", check=False, timeout=180)
        for service in ("agent", "api", "proxy"):  # images are per project: a test's are its own to remove
            for name in (f"{self.name}_{service}", f"{self.name}-{service}"):
                docker("image", "rm", name, check=False)
