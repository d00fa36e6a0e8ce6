"""Publish: one build of the marts at a time (builds), and the swap that makes a checked build `marts` (publish).

Write-audit-publish: dbt writes ``marts_build``, the gates (expectations/) check it, and only the build
that passed is published.
"""
