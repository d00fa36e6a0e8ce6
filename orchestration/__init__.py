"""Airflow glue: what the DAG files in dags/ share (shared), the landing-file sensors, and the alerts (notify)."""
