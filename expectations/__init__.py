"""Gates and evidence: Great Expectations suites and the checkpoints that run them, and what auditors read.

* ``expectations.suites`` generates the suites: one per raw feed from its declaration in
  ``extract/feeds.py``, one per mart from its columns and the mart naming conventions, plus
  a few hand-written checks (reconciliation).
* ``expectations.validate.run_checkpoint`` syncs them into the GX file context in
  ``expectations/gx/``, validates one night in the database, writes every result to the
  ``dq`` schema (warehouse/dq.py), builds Data Docs, and raises ``QualityGateFailed``
  when a critical expectation fails.
* ``expectations.dbt_results`` records dbt's own results for the night (``dq.dbt_results``).
* ``expectations.quality_report`` renders the night's evidence as a static HTML page.

docs/quality.md explains the gates, the evidence and the report.

``expectations/gx/`` is generated at run time; nothing in it is source.

This package must not import great_expectations at import time: the import takes
about 11 seconds, and Airflow imports DAG modules (and what they import) on every
parse. The GX import happens inside the functions that need it.
"""
