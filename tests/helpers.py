"""Small helpers shared by the tests."""


def query(conn, sql: str, params=None) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.commit()
    return rows


def fresh_database(settings, name: str, **changes):
    """Settings for a new, empty database `name` on the test server (dropped first if it is there).

    A module that builds its own warehouse (dbt runs, published marts) uses one, so it neither
    sees nor disturbs the session database the other tests share. `changes`: other settings to
    replace (e.g. landing_dir)."""
    import dataclasses

    from warehouse import db

    drop_database(settings, name)
    admin = db.connect(settings, autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"create database {name}")
    admin.close()
    return dataclasses.replace(settings, connection=dataclasses.replace(settings.connection, dbname=name), **changes)


def drop_database(settings, name: str) -> None:
    from warehouse import db

    admin = db.connect(settings, autocommit=True)
    with admin.cursor() as cur:
        # (force): a quality gate's SQLAlchemy pool may still hold sessions on it.
        cur.execute(f"drop database if exists {name} with (force)")
    admin.close()
