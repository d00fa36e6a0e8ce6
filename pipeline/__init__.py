"""The pipeline's steps: what each task of the DAGs does, as plain functions (nightly), plus retention
and what runs after a publication (partnership_refresh). Airflow itself is not imported here."""
