"""Backcare API."""

__version__ = "1.0.0"
"""The one version: the package's (pyproject reads it) and the OpenAPI document's `info.version`."""
