"""Bundled standards for :mod:`coverage.lifecircle` (TOML files, one a standard)."""
