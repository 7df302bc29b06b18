"""``deltaprop diagnose``: what is wrong with *your* backpropagation, in your course's notation.

    deltaprop diagnose --course ng-ml nnCostFunction.py      (or nnCostFunction.m with Octave)
    deltaprop diagnose --course ng-ml --grad mygrad.mat      (J and grad saved from Octave)
    deltaprop diagnose --course ng-dl dnn_app_utils.py       (L_model_backward / backward_propagation)
    deltaprop diagnose --course nielsen network.py           (class Network, its backprop)
    deltaprop diagnose --course cs231n neural_net.py         (class TwoLayerNet, its loss)

The learner's file is imported (it is their own code: it runs), the course's function or class
is found by the name the course gives it, the course's own test set-up is run through
``deltaprop.courses.<course>``, and the ``Diagnosis`` is printed. Exit 0 when every gradient is
right, 1 when a finding says what is wrong, 2 for a usage error.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

import typer

from .app import app, fail
from .common import plain

#: --course -> (module in deltaprop.courses, the names the course gives the learner's code)
COURSES = {
    "ng-ml": ("ng_ml", ("nnCostFunction", "nn_cost_function")),
    "ng-dl": ("ng_dl", ("L_model_backward", "backward_propagation")),
    "nielsen": ("nielsen", ("Network", "backprop")),
    "cs231n": ("cs231n", ("TwoLayerNet",)),
}
OCTAVE = ("octave-cli", "octave")


def _their_line(exc: BaseException, path: Path):
    """The last line of the learner's file in ``exc``'s traceback (None if it never ran there)."""
    line, tb, target = None, exc.__traceback__, str(path.resolve())
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in (str(path), target):
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None and isinstance(exc, SyntaxError) and exc.filename in (str(path), target):
        line = exc.lineno
    return line


@contextlib.contextmanager
def learner_code(path: Path, what: str):
    """Run the learner's code with its folder first on sys.path (as ``python their_file.py``
    would, so their helper modules import, also lazily), and turn an error or a ``sys.exit``
    in it into one line naming their file and line (exit 2), not a traceback."""
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        yield
    except SystemExit as exc:
        fail(f"{what} {path} called sys.exit({exc.code!r}); the check needs it to return")
    except Exception as exc:  # their code: any error is theirs to see, in one line
        line = _their_line(exc, path)
        if line is None and not isinstance(exc, SyntaxError) and what != "importing":
            raise  # not from their code: deltaprop's own message (a one-line ValueError)
        where = f" (line {line} of {path.name})" if line else ""
        fail(f"{what} {path} failed{where}: {type(exc).__name__}: {plain(exc)}")
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)


def import_solution(path: Path):
    """The learner's module, imported from ``path`` (see ``learner_code``)."""
    if not path.is_file():
        fail(f"{path}: no such file; give the .py file that holds your solution")
    spec = importlib.util.spec_from_file_location(f"_deltaprop_solution_{path.stem}", path)
    if spec is None or spec.loader is None:
        fail(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    with learner_code(path, "importing"):
        spec.loader.exec_module(module)
    return module


def find_solution(module, path: Path, course: str):
    """The course's function or class in the learner's module, by the course's names."""
    names = COURSES[course][1]
    for name in names:
        found = getattr(module, name, None)
        if found is not None:
            return name, found
    fail(f"{path} defines none of {', '.join(names)}: the --course {course} checker calls your code by that name")


def run_octave(path: Path, lambda_: float):
    """J and grad of an ``nnCostFunction.m`` on the course's debug set-up, run by Octave."""
    from ..courses import ng_ml

    octave = next((shutil.which(name) for name in OCTAVE if shutil.which(name)), None)
    if octave is None:
        lines = "\n".join("    " + line for line in ng_ml.OCTAVE_SAVE_LINES.strip().splitlines())
        fail(
            f"{path} is Octave code and octave-cli is not installed (Debian: apt-get install octave); "
            f"or run these lines in Octave, in the folder of {path.name}, and pass --grad mygrad.mat:\n{lines}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "mygrad.mat"
        quoted = str(target).replace("'", "''")  # Octave's quote in a '...' string
        script = ng_ml.OCTAVE_SAVE_LINES.replace("save -v7 mygrad.mat J grad lambda",
                                                 f"save('-v7', '{quoted}', 'J', 'grad', 'lambda')")
        script = script.replace("lambda = 0", f"lambda = {lambda_!r}")
        try:  # run in the file's folder: it (and debugInitializeWeights.m beside it) come first
            done = subprocess.run([octave, "--no-gui", "--quiet", "--eval", script], cwd=path.resolve().parent,
                                  capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            fail(f"Octave did not finish {path} within 300 s")
        if done.returncode != 0 or not target.exists():
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            fail(f"Octave could not run {path}: {plain(reason)}")
        return ng_ml.load_mat(target)


def diagnosis_for(course: str, solution: Optional[Path], grad: Optional[Path], lambda_: float, reg: float,
                  mats=()):
    """Run the course's checker on the learner's code (or saved gradient) → Diagnosis."""
    module = importlib.import_module(f"deltaprop.courses.{COURSES[course][0]}")
    if mats and course != "ng-ml":
        fail("--mat takes ex4's .mat files (ex4weights.mat, ex4data1.mat) for --course ng-ml")
    setup = module.setup_from_mat(*mats) if mats else None  # else the course's debug set-up
    if grad is not None:
        if course != "ng-ml":
            fail("--grad takes the J and grad that Octave saved for --course ng-ml")
        saved = module.load_mat(grad)  # (the saved λ, when the file has it, is the one it ran with)
        return module.diagnose_grad(saved["grad"], J=saved.get("J"), lambda_=saved.get("lambda", lambda_),
                                    setup=setup)
    if solution is None:
        fail("give the file with your solution (or --grad FILE.mat for --course ng-ml)")
    if solution.suffix.lower() == ".m":
        if course != "ng-ml" or mats:
            fail(f"{solution} is Octave code: --course ng-ml runs it on checkNNGradients' set-up (without --mat)")
        saved = run_octave(solution, lambda_)
        return module.diagnose_grad(saved["grad"], J=saved.get("J"), lambda_=lambda_)
    name, found = find_solution(import_solution(solution), solution, course)
    with learner_code(solution, f"running {name} from"):
        if course == "ng-ml":
            return module.check_nn_gradients(found, lambda_=lambda_, setup=setup)
        if course == "ng-dl":
            if name == "L_model_backward":
                return module.check_L_model_backward(found)
            return module.check_backward_propagation(found)
        if course == "nielsen":
            return module.check_backprop(found)
        return module.check_loss(found, reg=reg)


@app.command("diagnose")
def diagnose_command(
    solution: Optional[Path] = typer.Argument(None, help="Your solution: a .py file (or nnCostFunction.m for ng-ml).", metavar="SOLUTION"),
    course: str = typer.Option(..., "--course", help="ng-ml, ng-dl, nielsen or cs231n.", metavar="TEXT"),
    grad: Optional[Path] = typer.Option(None, "--grad", help="ng-ml: a .mat file with J and grad saved from Octave (see the lines this command prints without Octave).", metavar="PATH"),
    mat: Optional[List[Path]] = typer.Option(None, "--mat", help="ng-ml: check on ex4's own weights and data instead of checkNNGradients' set-up (--mat ex4weights.mat --mat ex4data1.mat).", metavar="PATH"),
    lambda_: float = typer.Option(0.0, "--lambda", help="ng-ml: the regularisation λ to check with.", metavar="FLOAT"),
    reg: float = typer.Option(0.1, "--reg", help="cs231n: the regularisation strength to check with.", metavar="FLOAT"),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
):
    """Run your backpropagation the way your course's gradient check does, and say what is wrong
    with it — which classic mistake explains your numbers — in the course's notation."""
    course = course.lower()
    if course not in COURSES:
        fail(f"--course must be one of {', '.join(COURSES)}, got {course!r}")
    result = diagnosis_for(course, solution, grad, lambda_, reg, tuple(mat or ()))
    if as_json:
        from .common import to_json

        findings = [
            {"kind": f.kind, "array": f.array, "message": f.message, "expected": f.expected, "given": f.given,
             "index": None if f.index is None else list(f.index), "factor": f.factor}
            for f in result.findings
        ]
        typer.echo(to_json({"course": course, "ok": result.ok, "findings": findings}), nl=False)
    else:
        typer.echo(plain(str(result), keep_newlines=True))
    raise typer.Exit(0 if result.ok else 1)


__all__ = ["diagnose_command", "COURSES", "import_solution"]
