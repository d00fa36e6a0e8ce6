"""Runtime of the safeguarding warehouse: settings, the embedded PostgreSQL, dbt, publishing, CLI."""
