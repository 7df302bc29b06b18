"""The command line; see ``app`` for the entry point and ``commands`` for the subcommands."""

from .app import app, main

__all__ = ["app", "main"]
