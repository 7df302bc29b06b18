"""The ``deltaprop`` command: one Typer app; each subcommand lives in its own module.

User mistakes (bad arguments, missing or malformed files, bad data) end with a one-line
``error: ...`` on stderr and exit code 2; no traceback.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer
from typer.core import TyperCommand

def _argument_name(param) -> str:
    return param.metavar or param.name.upper()


class PlainCommand(TyperCommand):
    """A command whose help names its arguments as click and git do: ``Usage: deltaprop
    evaluate [OPTIONS] MODEL`` and ``MODEL  A model file …`` (typer 0.29 writes ``{MODEL}``
    and ``MODEL <path>``)."""

    def collect_usage_pieces(self, ctx):
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _argument_name(param) + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx, formatter):
        args, opts = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                args.append((_argument_name(param), record[1]))
            elif param.param_type_name == "option":
                opts.append(record)
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class _App(typer.Typer):
    """Every command of the app is a ``PlainCommand``."""

    def command(self, *args, cls=None, **kwargs):
        return super().command(*args, cls=cls or PlainCommand, **kwargs)


app = _App(
    name="deltaprop",
    help="Train feed-forward networks by backpropagation, and see the math behind every gradient.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help (git/pip style): "[default: …]" texts shown verbatim
)


def _print_version(value: Optional[bool]) -> None:
    if value:
        from .. import __version__

        typer.echo(f"deltaprop {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_print_version, is_eager=True,
        help="Print the version (deltaprop X.Y.Z) and exit.",
    ),
):
    """Train feed-forward networks by backpropagation, and see the math behind every gradient."""


#: Exit code for user mistakes.
USAGE_ERROR = 2


class UserError(Exception):
    """A mistake the user can fix; the CLI prints its message on one line."""


def fail(message: str) -> None:
    """Stop the command with a one-line error."""
    raise UserError(message)


def main(argv=None) -> None:
    """Entry point of the console script."""
    import warnings

    from . import commands  # noqa: F401  (registers the subcommands)
    from .common import plain

    def one_line(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {plain(message)}", file=sys.stderr)

    shown_before, warnings.showwarning = warnings.showwarning, one_line  # a library warning, on one line
    try:
        app(args=argv, prog_name="deltaprop")  # Typer handles --help and usage errors (exit 2)
    except (UserError, ValueError, OSError) as exc:  # OSError: missing file, not a directory, disk full
        print(f"error: {plain(exc)}", file=sys.stderr)  # one line; labels in it stay text
        sys.exit(USAGE_ERROR)
    finally:
        warnings.showwarning = shown_before
