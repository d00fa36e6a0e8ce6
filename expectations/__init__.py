"""Data quality gates: Great Expectations suites and the checkpoints that run them.

* ``expectations.suites`` declares the suites as plain data (reviewable in a diff).
* ``expectations.validate.run_checkpoint`` syncs them into the GX file context in
  ``expectations/gx/``, validates one night in the database, builds Data Docs, and
  raises ``QualityGateFailed`` when a critical expectation fails.

``expectations/gx/`` is generated at run time; nothing in it is source.

This package must not import great_expectations at import time: the import takes
about 11 seconds, and Airflow imports DAG modules (and what they import) on every
parse. The GX import happens inside the functions that need it.
"""
