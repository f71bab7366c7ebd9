"""The tipqa version: pyproject.toml reads it from here, and every index manifest records it."""
__version__ = "0.1.0"
