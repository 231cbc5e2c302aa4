"""The ``photoguard`` command line: file commands and catalogue commands."""

from photoguard_core.cli import catalogue, files  # noqa: F401  (registers commands)
from photoguard_core.cli.app import main

__all__ = ["main"]
