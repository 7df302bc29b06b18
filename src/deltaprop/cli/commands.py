"""Registers every subcommand on the app (one module per command)."""

from .app import app
from . import train  # noqa: F401
from . import evaluate  # noqa: F401
from . import predict  # noqa: F401
from . import info  # noqa: F401
from . import gradcheck  # noqa: F401
from . import explain  # noqa: F401
from . import report  # noqa: F401
from . import diagnose  # noqa: F401
