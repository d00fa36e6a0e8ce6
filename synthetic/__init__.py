"""Synthetic nights for the tests, the benchmarks and the demo run (`safeguarding run`): never real data.

Tooling, not part of the pipeline: it writes files into the landing folder the way a council's
systems would, from the feed declarations (extract/feeds.py), and nothing in the pipeline imports it.
"""
