"""Sanctions, PEP and watchlist screening (issue 6).

- `importers`: one parser per public list format, each yielding normalised records;
- `services`: `import_file`, which diffs a parsed file against the stored entries in bulk;
- `matching` / `normalise`: the name matcher.
"""
