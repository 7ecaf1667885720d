"""The rule engine: evaluates the active rule instances on a transaction (see runner.py)."""
