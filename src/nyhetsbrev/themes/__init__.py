"""Themes shipped with the package (the default: `kom`); a workspace's templates/<name>/ wins."""
