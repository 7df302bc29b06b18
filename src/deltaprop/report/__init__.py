"""The training report: one self-contained HTML page per run (``deltaprop report RUN_DIR``).

    from deltaprop.report import write_report
    write_report("runs/latest")              # -> runs/latest/report.html

See ``builder`` for what the page holds and how it is made.
"""

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

__all__ = [
    "build_report",
    "write_report",
    "load_run",
    "Run",
    "read_report_data",
    "read_derivations",
    "N_EXAMPLES",
    "MAX_DERIVED_PARAMETERS",
]
