"""The issue: its typed model, loading from YAML with located errors, linting, scaffolding."""
