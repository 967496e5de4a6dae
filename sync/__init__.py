"""Weiguang's sync protocol, badges, hours rules and the central server."""

__version__ = "0.1.0"   # keep in step with pyproject.toml; kiosks report it to the center's fleet page
