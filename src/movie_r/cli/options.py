"""What every command shares: its settings (the environment, with the command's flags on
top) and its log format. Imports nothing heavy: `status` and `models` start quickly."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from pydantic import ValidationError

from movie_r.errors import SettingsError
from movie_r.settings import Settings

LOG_FORMAT = "%(asctime)s level=%(levelname)s pid=%(process)d logger=%(name)s %(message)s"


SECRET_SETTINGS = {"admin_token", "console_token", "request_id_secret"}


def _shown(error: Any) -> str:
    """The refused value as the error line shows it: never a secret's."""
    return "<hidden>" if error["loc"] and error["loc"][0] in SECRET_SETTINGS else repr(error.get("input"))


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment settings with command-line flags on top."""
    overrides: dict[str, Any] = {}
    if args.home:
        overrides["home"] = args.home
    if getattr(args, "catalog", None):
        overrides["catalog"] = args.catalog
    if getattr(args, "interactions", None) is not None:
        overrides["interactions"] = args.interactions  # "" means none
    if getattr(args, "no_interactions", False):
        overrides["interactions"] = None
    for name in ("skip_invalid", "skip_unknown"):  # a flag can only switch it on; the variable too
        if getattr(args, name, False):
            overrides[name] = True
    for name in ("host", "port", "workers", "loop", "engine", "spark_master"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    if getattr(args, "window", None) is not None:
        overrides["summary_window_hours"] = args.window
    if getattr(args, "interval", None) is not None:
        overrides["agent_interval_seconds"] = args.interval
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [
            f"MOVIE_R_{'_'.join(str(part) for part in error['loc']).upper()}={_shown(error)}: {error['msg']}"
            for error in exc.errors()
            if error["type"] != "default_factory_not_called"  # a consequence of another line, not a problem of its own
        ]
        raise SettingsError("\n".join(lines)) from None


def log_level(args: argparse.Namespace) -> int:
    return logging.WARNING if getattr(args, "quiet", False) else logging.INFO
