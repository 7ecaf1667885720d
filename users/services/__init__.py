"""Writes to customers: plain keyword-only functions, each one transaction, audited, re-scoring."""
