"""The training report: one self-contained HTML page per run (``deltaprop report RUN_DIR``).

    from deltaprop.report import write_report
    write_report("runs/latest")              # -> runs/latest/report.html

    import deltaprop
    deltaprop.report(net, X, y)              # the same page, from Python (see ``inline``)

See ``builder`` for what the page holds and how it is made.

``deltaprop.report`` is both this package and a function: the module's class is a
``types.ModuleType`` subclass with ``__call__`` (assigning a module's ``__class__`` is part of
Python's data model, "Customizing module attribute access"), so ``deltaprop.report(...)``
calls ``inline.report`` while ``from deltaprop.report import write_report`` and
``import deltaprop.report.builder`` work as they always did. Importing the package loads no
plotly or matplotlib (the builder imports them when it draws).
"""

import inspect
import sys
import types

from .builder import (
    MAX_DERIVED_PARAMETERS,
    N_EXAMPLES,
    Run,
    build_report,
    load_run,
    read_derivations,
    read_report_data,
    write_report,
)
from .inline import Report, ReportError, report

__all__ = [
    "build_report",
    "write_report",
    "load_run",
    "Run",
    "read_report_data",
    "read_derivations",
    "N_EXAMPLES",
    "MAX_DERIVED_PARAMETERS",
    "report",
    "Report",
    "ReportError",
]


class _CallableModule(types.ModuleType):
    """This package, callable: ``deltaprop.report(model, X, y, ...)`` is ``inline.report``."""

    __call__ = staticmethod(report)


sys.modules[__name__].__class__ = _CallableModule
__signature__ = inspect.signature(report)  # what help() and IPython's ``deltaprop.report?`` show
