"""Keyed hashing of person identifiers: HMAC-SHA256 with a key from the environment.

dbt's ``pseudonymise()`` macro computes HMAC-SHA256 in SQL from the two HMAC pads
derived from the key (RFC 2104). The pads, not the key, are written to
``private.pseudonymisation_key``: a schema that only the pipeline's own role can
read (no BI or auditor grant), so the key itself never reaches the database,
compiled SQL or logs. Python's ``hmac`` module gives the same keys, which is
how the tests check the macro.
"""

from __future__ import annotations

import hashlib
import hmac

from .settings import Settings

BLOCK_SIZE = 64  # SHA-256's block size in bytes


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    raw = key.encode("utf-8")
    if len(raw) > BLOCK_SIZE:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(BLOCK_SIZE, b"\0")
    inner = bytes(b ^ 0x36 for b in raw)
    outer = bytes(b ^ 0x5C for b in raw)
    return inner, outer


def pseudonym(key: str, domain: str, identifier: str) -> str:
    """The key the marts carry for `identifier` (what the SQL macro computes)."""
    return hmac.new(key.encode("utf-8"), f"{domain}:{identifier}".encode("utf-8"), hashlib.sha256).hexdigest()


def install_key(conn, settings: Settings) -> None:
    """Write the current key's pads (and the regional pool salt's), replacing any previous ones, in one transaction."""
    inner, outer = hmac_pads(settings.pseudonymisation_key)
    with conn.cursor() as cur:
        cur.execute("create schema if not exists private")
        cur.execute("revoke all on schema private from public")
        cur.execute(
            "create table if not exists private.pseudonymisation_key ("
            " inner_pad bytea not null, outer_pad bytea not null,"
            " installed_at timestamptz not null default now())"
        )
        cur.execute("comment on table private.pseudonymisation_key is "
                    "'HMAC pads of the pseudonymisation key (one row). Never granted to BI or audit roles.'")
        cur.execute("delete from private.pseudonymisation_key")
        cur.execute("insert into private.pseudonymisation_key (inner_pad, outer_pad) values (%s, %s)",
                    (inner, outer))
        # The regional pool's salt, the same way (macros/regional_pool.sql). No salt, no row: the
        # pool's hashes are null and its extract is withheld (warehouse/audiences.py).
        cur.execute(
            "create table if not exists private.regional_pool_salt ("
            " inner_pad bytea not null, outer_pad bytea not null,"
            " installed_at timestamptz not null default now())"
        )
        cur.execute("comment on table private.regional_pool_salt is "
                    "'HMAC pads of the regional pool''s secret salt (one row, or none when no salt is set).'")
        cur.execute("delete from private.regional_pool_salt")
        if settings.regional_pool_salt:
            inner, outer = hmac_pads(settings.regional_pool_salt)
            cur.execute("insert into private.regional_pool_salt (inner_pad, outer_pad) values (%s, %s)",
                        (inner, outer))
    conn.commit()
