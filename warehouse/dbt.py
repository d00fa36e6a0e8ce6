"""Run dbt as a subprocess with the warehouse settings in its environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .settings import DBT_PROJECT_DIR, Settings


# The environment variable that gives dbt the night's extract date (macros/extract_date.sql).
EXTRACT_DATE_ENV = "SAFEGUARDING_EXTRACT_DATE"


class DbtFailed(RuntimeError):
    pass


def dbt_target_dir() -> Path:
    """dbt's target folder (manifest, run results, partial parse): dbt's own DBT_TARGET_PATH when
    set (each test worker sets its own, so two builds at once never read each other's results),
    else dbt_project/target."""
    return Path(os.environ.get("DBT_TARGET_PATH") or DBT_PROJECT_DIR / "target")


def dbt_executable() -> str:
    """The dbt beside this Python (the project's venv), else the one on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


def run_dbt(settings: Settings, args: list[str], *, extract_date: str | None = None, check: bool = True,
            extra_env: dict[str, str] | None = None) -> int:
    """Run `dbt <args>` in the project folder; its output streams to our stdout (the task log)."""
    command = [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR)]
    env = {**os.environ, **settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False", **(extra_env or {})}
    # The night's date reaches the models through the environment, not --vars: a --vars value that
    # differs from the previous run's makes dbt parse the whole project again, every night
    # (macro run_extract_date in dbt_project/macros/extract_date.sql). Empty: each feed's latest extract.
    env[EXTRACT_DATE_ENV] = extract_date or ""
    print((f"+ {EXTRACT_DATE_ENV}={extract_date} " if extract_date else "+ ") + " ".join(command),
          flush=True)
    result = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env)
    if check and result.returncode != 0:
        raise DbtFailed(f"`dbt {' '.join(args)}` failed (exit {result.returncode}); see the dbt output above "
                        f"and {Path(os.environ.get('DBT_LOG_PATH') or DBT_PROJECT_DIR / 'logs') / 'dbt.log'}")
    return result.returncode
