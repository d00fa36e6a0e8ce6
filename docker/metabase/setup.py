"""One-shot: set up Metabase on first start and add the warehouse as a data source, as the partnership.

Run by the `metabase-setup` service in docker-compose.yml. Metabase's first-run
API (/api/setup) creates the admin user and the warehouse database connection in
one call; the connection uses the `safeguarding_partnership` role, which can read
the partnership's schema of suppressed aggregates and nothing else
(warehouse/audiences.yml). Idempotent: once
Metabase is set up it says so and exits.

Standard library only, so it runs in the plain python image.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

METABASE = os.environ.get("METABASE_URL", "http://metabase:3000")


def call(method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(METABASE + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def main() -> int:
    for _ in range(60):
        try:
            if call("GET", "/api/health").get("status") == "ok":
                break
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(5)
    else:
        print("Metabase did not become healthy", file=sys.stderr)
        return 1
    token = call("GET", "/api/session/properties").get("setup-token")
    if not token:
        print("Metabase is already set up: add or edit the warehouse under Admin > Databases.")
        return 0
    call("POST", "/api/setup", {
        "token": token,
        "user": {"email": os.environ["METABASE_ADMIN_EMAIL"], "password": os.environ["METABASE_ADMIN_PASSWORD"],
                 "first_name": "Metabase", "last_name": "Admin", "site_name": "Safeguarding warehouse"},
        "prefs": {"site_name": "Safeguarding warehouse", "allow_tracking": False},
        "database": {
            "engine": "postgres",
            "name": "Safeguarding warehouse (partnership)",
            "details": {
                "host": os.environ.get("WAREHOUSE_HOST", "warehouse"),
                "port": int(os.environ.get("WAREHOUSE_PORT", "5432")),
                "dbname": os.environ.get("WAREHOUSE_DB", "safeguarding"),
                "user": "safeguarding_partnership",
                "password": os.environ["SAFEGUARDING_PARTNERSHIP_PASSWORD"],
                "schema-filters-type": "inclusion",
                "schema-filters-patterns": "partnership",
                "ssl": False,
            },
        },
    })
    print("Metabase is set up; the warehouse is connected as safeguarding_partnership.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
