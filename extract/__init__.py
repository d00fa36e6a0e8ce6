"""Feeds and loading: feed declarations, SQL sources, the COPY loader, crash recovery, a night's load.

``extract.returns`` (the statutory returns, mapped into the nightly feeds) sits on top of it.
The synthetic generator that writes test and demo nights is tooling, in ``synthetic/``.
"""
