"""Use cases: each takes its repositories and clock as arguments (built once in bootstrap)."""
