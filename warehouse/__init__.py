"""Settings and the database: the bottom layer, which every other package may import.

Settings (read from the environment), connections, the embedded PostgreSQL, running dbt, the
schemas' bookkeeping tables (raw_zone, dq), the roles and who reads what (audiences.yml), the
pseudonymisation key and the bank-holiday seed. Nothing here imports the layers above it
(tests/test_layers.py has the order).
"""
