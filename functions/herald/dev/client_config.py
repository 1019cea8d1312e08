"""Where the `herald` CLI finds Herald's API, and as whom it calls it: one rule for every client
subcommand, the same environment `herald dev` reads.

The URL, first found of: `--url`; `HERALD_URL`; `HERALD_PORT` (`http://127.0.0.1:<port>`, the port
`herald dev` takes from it too); the file `.herald/dev-url` that `herald dev` writes next to
`.herald/dev-api-key` once it is up; else `http://127.0.0.1:8000`. The key: `--api-key`, else
`HERALD_API_KEY`, else `.herald/dev-api-key`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from herald import names

DEV_DIR = Path(".herald")
DEV_KEY_FILE = DEV_DIR / "dev-api-key"
DEV_URL_FILE = DEV_DIR / "dev-url"
LOCAL_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_URL = f"http://{LOCAL_HOST}:{DEFAULT_PORT}"
ENV_URL = "HERALD_URL"


class ClientConfigError(ValueError):
    """The environment names Herald in a way that cannot work (e.g. HERALD_PORT=abc)."""


@dataclass(frozen=True)
class Target:
    url: str
    source: str  # where the URL came from, for error messages


def port_from_env(default: int, name: str = names.ENV_PORT) -> int:
    """A port from the environment (HERALD_PORT, HERALD_MOTO_PORT), else `default`."""
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        port = int(value)
    except ValueError:
        raise ClientConfigError(f"{name} must be a port number, got {value!r}") from None
    if not 0 < port < 65536:
        raise ClientConfigError(f"{name} must be a port number (1-65535), got {port}")
    return port


def api_target(explicit_url: str | None = None) -> Target:
    """The API to call, and where that answer came from."""
    if explicit_url:
        return Target(explicit_url.rstrip("/"), "--url")
    if os.environ.get(ENV_URL):
        return Target(os.environ[ENV_URL].rstrip("/"), ENV_URL)
    if os.environ.get(names.ENV_PORT):
        return Target(f"http://{LOCAL_HOST}:{port_from_env(DEFAULT_PORT)}", names.ENV_PORT)
    try:
        written = DEV_URL_FILE.read_text().strip()
    except OSError:
        written = ""
    if written:
        return Target(written.rstrip("/"), str(DEV_URL_FILE))
    return Target(DEFAULT_URL, "the default")


def api_key(explicit_key: str | None = None) -> str | None:
    """The key to send: `--api-key`, HERALD_API_KEY, else the dev key file (None: none found)."""
    key = explicit_key or os.environ.get(names.ENV_API_KEY)
    if key:
        return key
    try:
        return DEV_KEY_FILE.read_text().strip() or None
    except OSError:
        return None


def write_dev_files(url: str, key: str) -> None:
    """`herald dev`, once it is up: where it listens and its admin key, for the CLI and the
    quickstart in the same directory. Private to the user (the key is an admin key)."""
    try:
        DEV_DIR.mkdir(exist_ok=True)
        for path, text in ((DEV_KEY_FILE, key), (DEV_URL_FILE, url)):
            # Created 0600, never readable by others even for a moment.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(text + "\n")
            path.chmod(0o600)  # a file left by an older run may have had other permissions
    except OSError:
        pass  # a read-only directory only loses the convenience files
