"""`movie-r serve`: the API's subcommand, registered through the `movie_r.commands` entry point.

The supervisor imports neither the app nor scikit-learn: `serve --workers N` starts its
workers without first loading the libraries each of them loads anyway.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

from movie_r.cli.options import LOG_FORMAT, log_level, settings_from


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    sub = commands.add_parser("serve", parents=[common], help="run the inference API (uvicorn)")
    sub.add_argument("--host", help="listen address (default: $MOVIE_R_HOST or 127.0.0.1)")
    sub.add_argument("--port", type=int, help="listen port (default: $MOVIE_R_PORT or 8000)")
    sub.add_argument("--workers", type=int, help="worker processes (default: $MOVIE_R_WORKERS or 1)")
    sub.add_argument("--loop", choices=["asyncio", "uvloop"], help="event loop (default: $MOVIE_R_LOOP or asyncio)")
    sub.set_defaults(handler=cmd_serve)



def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = settings_from(args)
    # workers are new processes that build their settings from the environment
    os.environ["MOVIE_R_HOME"] = str(settings.home.resolve())
    metrics_dir = None
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # prometheus-client's multiprocess mode: a fresh directory per server, removed after it
        # (and, after a kill -9, by the next server: the directory names its server's pid)
        remove_stale_prometheus_dirs()
        metrics_dir = tempfile.mkdtemp(prefix=f"{PROMETHEUS_PREFIX}{os.getpid()}-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    from movie_r_api.http_limits import BoundedHttpToolsProtocol, ServeConfig

    options: dict[str, Any] = {
        "factory": True,
        "header_timeout": settings.header_timeout,
        "http": BoundedHttpToolsProtocol,
        # forwarded headers are the app's to judge, from MOVIE_R_TRUSTED_PROXIES only (forwarded.py);
        # uvicorn would believe any X-Forwarded-For sent from 127.0.0.1
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "loop": settings.loop,
        "access_log": False,  # every /recommend is already an event in metrics/events
        # applied by uvicorn in every worker process, which otherwise drop our INFO lines
        "log_config": uvicorn_log_config(log_level(args)),
        "timeout_graceful_shutdown": 10,
    }
    config = ServeConfig("movie_r_api.app:create_app", **options)
    try:
        if settings.workers == 1:
            server = uvicorn.Server(config)
            with contextlib.suppress(KeyboardInterrupt):
                server.run()
            if not server.started:
                return 3  # uvicorn's own exit status when the app fails to start
        else:
            from uvicorn.supervisors import Multiprocess

            fork_workers_from_preloaded_server()
            Multiprocess(config, sockets=[tcp_listener(config)]).run()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def fork_workers_from_preloaded_server() -> None:
    """Start uvicorn's workers from a fork server that has imported the app once.

    uvicorn spawns each worker as a fresh interpreter, which imports FastAPI, scikit-learn,
    SciPy and pandas again: pages every worker then holds privately. Forked from a server
    that imported them (`preload.py`), the workers share those pages (copy-on-write). The
    fork server is a clean single-threaded process, unlike the supervisor, whose signal and
    health-check threads make a plain fork unsafe. uvicorn has no setting for its start
    method, so its module-level multiprocessing context is replaced
    (`tests/api/test_server.py` checks the workers are the preloaded fork server's children).
    """
    import multiprocessing

    import uvicorn._subprocess

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["movie_r_api.preload"])
    uvicorn._subprocess.spawn = context  # type: ignore[assignment]


PROMETHEUS_PREFIX = "movie_r-prometheus-"


def remove_stale_prometheus_dirs(root: Path | None = None) -> list[Path]:
    """Delete the multiprocess metrics directories of servers that no longer run."""
    removed = []
    for path in Path(root or tempfile.gettempdir()).glob(f"{PROMETHEUS_PREFIX}*"):
        pid = path.name[len(PROMETHEUS_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and _running(int(pid)):
            continue
        shutil.rmtree(path, ignore_errors=True)  # a dead server's, or one named before pids were
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def uvicorn_log_config(level: int) -> dict[str, Any]:
    """One stderr handler on the root logger, in our format, for uvicorn's loggers and ours."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def tcp_listener(config: Any) -> socket.socket:
    """uvicorn's shared listening socket for several workers, marked as TCP.

    uvicorn binds it with `proto` 0 and accepted sockets inherit that; asyncio enables
    TCP_NODELAY only on sockets that say IPPROTO_TCP, so with Nagle left on every keep-alive
    response waited for a delayed ACK (uvicorn issue 3149), which cut throughput several-fold.
    """
    bound = config.bind_socket()
    return socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
