"""`safeguarding bi`: Apache Superset with the partnership's dashboards, on this warehouse.

Superset lives in its own virtualenv, ``.venv-superset`` (``make install-bi``, which ``make test``
and ``make bi`` run): its pinned dependencies differ from Airflow's (bi/superset/requirements.txt,
constraints.txt). This module, in the project's own virtualenv, prepares and starts it:

* a state folder of its own, ``.local/superset/``: its configuration (a generated secret key) and
  its metadata database, a copy of the migrated template the install made
  (``.venv-superset/superset-template.db``), so a first start takes seconds, not minutes;
* bi/superset/provision.py, run with Superset's Python: the admin user (password
  ``SAFEGUARDING_BI_ADMIN_PASSWORD``, or generated in ``.local/secrets/``) and the dashboards of
  bi/superset/dashboards.yml, connected to the warehouse as **safeguarding_partnership**, the
  partnership's role: a chart can show nothing that role may not read (warehouse/audiences.yml);
  then, in the same process (Superset's app takes 10 to 15 seconds to make), its web server, as
  ``superset run --with-threads`` would, on 127.0.0.1 (port 18580 by default; ``--port``).

Offline is fine: Superset's pages and scripts are in its package; the web fonts it names fall
back to the browser's own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from warehouse.settings import PROJECT_ROOT, ConfigurationError, Settings, local_secret

BI_VENV = PROJECT_ROOT / ".venv-superset"
PROVISION = PROJECT_ROOT / "bi" / "superset" / "provision.py"
TEMPLATE = BI_VENV / "superset-template.db"
DEFAULT_PORT = 18580
ADMIN_USER = "admin"
PARTNERSHIP_AUDIENCE = "partnership"


def superset_bin(name: str = "python") -> str:
    path = BI_VENV / "bin" / name
    if not path.exists():
        raise ConfigurationError(f"Superset is not installed ({path} is missing): run `make install-bi`.")
    return str(path)


def admin_password(settings: Settings) -> str:
    return os.environ.get("SAFEGUARDING_BI_ADMIN_PASSWORD", "").strip() or local_secret(settings.state_dir,
                                                                                          "superset_admin.password")


def partnership_uri(settings: Settings) -> str:
    """The warehouse as the partnership's role, in SQLAlchemy's form, for Superset's connection."""
    from warehouse.audiences import declaration

    c = settings.as_role(declaration().audience(PARTNERSHIP_AUDIENCE).name).connection
    return c.url.replace("postgresql://", "postgresql+psycopg2://", 1)


def home(settings: Settings) -> Path:
    return settings.state_dir / "superset"


def environment(settings: Settings) -> dict[str, str]:
    """Superset's environment: its configuration file (owner only)."""
    folder = home(settings)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    config = folder / "superset_config.py"
    config.write_text(
        "# Written by `safeguarding bi` (safeguarding/bi.py). Local state: never commit it.\n"
        f"SECRET_KEY = {local_secret(settings.state_dir, 'superset.key')!r}\n"
        f"SQLALCHEMY_DATABASE_URI = {'sqlite:///' + str(folder / 'superset.db')!r}\n"
        "SUPERSET_LOAD_EXAMPLES = False\n"
        "# The charts' filters pick the latest month with a sub-query (bi/superset/dashboards.yml).\n"
        "FEATURE_FLAGS = {'ALLOW_ADHOC_SUBQUERY': True}\n"
        "# Talisman's HTTPS headers are for a deployment behind TLS; this server listens on 127.0.0.1 only.\n"
        "TALISMAN_ENABLED = False\n"
    )
    config.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update({"SUPERSET_CONFIG_PATH": str(config), "SUPERSET_HOME": str(folder), "FLASK_APP": "superset"})
    return env


def prepare(settings: Settings) -> dict[str, str]:
    """Superset's environment, with its metadata database (from the install's template) and the
    secrets provision.py needs: the admin's password and the partnership role's connection."""
    env = environment(settings)
    metadata = home(settings) / "superset.db"
    if not metadata.exists() and TEMPLATE.exists():
        shutil.copyfile(TEMPLATE, metadata)
    return env | {"SAFEGUARDING_BI_ADMIN_PASSWORD": admin_password(settings),
                  "SAFEGUARDING_BI_WAREHOUSE_URI": partnership_uri(settings)}


def start(settings: Settings, port: int, log: Path | None = None) -> subprocess.Popen:
    """Set Superset up and start its web server on 127.0.0.1:`port`, in the background, in one
    process (bi/superset/provision.py --serve); returns once it answers."""
    env = prepare(settings)
    log = log or home(settings) / "superset.log"
    with open(log, "w") as out:  # the server holds its own copy of the file
        process = subprocess.Popen([superset_bin(), str(PROVISION), "--serve", "127.0.0.1", str(port)],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-40:])
            raise ConfigurationError(f"Superset could not be set up or started (bi/superset/provision.py, "
                                     f"exit {process.returncode}); the end of its log, {log}:\n{tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(1)
    process.kill()
    raise ConfigurationError(f"Superset did not answer on 127.0.0.1:{port} within 3 minutes; its log: {log}")


def serve(settings: Settings, port: int = DEFAULT_PORT) -> int:
    """`safeguarding bi`: start Superset and keep it running until Ctrl-C."""
    process = start(settings, port)
    print(f"""
Superset is running: http://127.0.0.1:{port}/dashboard/list/   (Ctrl-C stops it)
  user {ADMIN_USER}, password in {settings.state_dir / 'secrets' / 'superset_admin.password'}
  (or SAFEGUARDING_BI_ADMIN_PASSWORD). Its dashboards read the warehouse as safeguarding_partnership.
  Its log: {home(settings) / 'superset.log'}
""", flush=True)
    def stop(*_):  # Ctrl-C or a kill: never leave Superset running behind
        process.terminate()
        process.wait(timeout=30)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        return process.wait()
    except KeyboardInterrupt:
        stop()
        return 0


if __name__ == "__main__":  # pragma: no cover - `safeguarding bi` is the way in
    sys.exit(serve(__import__("warehouse.settings", fromlist=["load"]).load()))
