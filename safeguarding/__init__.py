"""The `safeguarding` command (cli): the top layer, for the embedded default and for operators.

Also how `safeguarding run` drives `airflow dags test` truthfully (local_run) and `safeguarding bi` (bi).
"""
