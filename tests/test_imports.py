"""A fast start: ``import deltaprop`` loads only the engine, and ``deltaprop --help`` /
``--version`` answer without scikit-learn, matplotlib or plotly. Each check runs in a fresh
interpreter, since this test session has long since imported everything."""

import json
import subprocess
import sys

import pytest

import deltaprop

HEAVY = ("sklearn", "matplotlib", "plotly")
HEAVY_FOR_THE_LIBRARY = HEAVY + ("typer", "rich")

REPORT_LOADED = """
import json, sys
loaded = sorted({name.split('.')[0] for name in sys.modules})
print("LOADED " + json.dumps(loaded), file=sys.stderr)
"""


def run_fresh(code: str) -> tuple[subprocess.CompletedProcess, set]:
    """Run ``code`` in a new interpreter; return the process and the top-level packages it
    had loaded at exit (also when ``code`` ends with SystemExit)."""
    program = f"try:\n{_indent(code)}\nfinally:\n{_indent(REPORT_LOADED)}\n"
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("LOADED ")]
    assert lines, f"the child printed no module list:\n{proc.stderr}"
    return proc, set(json.loads(lines[-1][len("LOADED "):]))


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.strip().splitlines())


def test_import_loads_no_heavy_package():
    proc, loaded = run_fresh("import deltaprop")
    assert proc.returncode == 0, proc.stderr
    assert not loaded & set(HEAVY_FOR_THE_LIBRARY), f"import deltaprop loaded {sorted(loaded & set(HEAVY_FOR_THE_LIBRARY))}"


def test_every_public_name_still_imports():
    names = ", ".join(n for n in deltaprop.__all__ if n != "__version__")
    proc, loaded = run_fresh(
        f"from deltaprop import {names}\n"
        "import deltaprop\n"
        "assert set(deltaprop.__all__) <= set(dir(deltaprop)), set(deltaprop.__all__) - set(dir(deltaprop))\n"
        "for name in deltaprop.__all__:\n"
        "    assert getattr(deltaprop, name) is not None, name\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert "sklearn" in loaded  # MLPClassifier resolved on first use


def test_lazy_names_resolve_to_the_real_objects():
    from deltaprop.modelfile import load, save
    from deltaprop.sklearn import MLPClassifier, MLPRegressor

    assert deltaprop.MLPClassifier is MLPClassifier
    assert deltaprop.MLPRegressor is MLPRegressor
    assert deltaprop.save is save and deltaprop.load is load
    assert "MLPClassifier" in dir(deltaprop)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        deltaprop.not_a_name  # noqa: B018


def test_explain_stays_the_function_after_the_submodule_is_imported():
    import deltaprop.explain  # noqa: F401  (the submodule of the same name)

    assert callable(deltaprop.explain)


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_cli_help_and_version_load_no_heavy_package(argv):
    proc, loaded = run_fresh(f"from deltaprop.cli import main\nmain({argv!r})")
    assert proc.returncode == 0, proc.stderr
    assert not loaded & set(HEAVY), f"deltaprop {' '.join(argv)} loaded {sorted(loaded & set(HEAVY))}"


def test_subcommand_help_loads_no_heavy_package():
    commands = ["train", "evaluate", "predict", "info", "gradcheck", "explain", "report"]
    proc, loaded = run_fresh(
        "from deltaprop.cli import main\n"
        f"for name in {commands!r}:\n"
        "    try:\n"
        "        main([name, '--help'])\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, (name, exc.code)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert not loaded & set(HEAVY), f"a subcommand's --help loaded {sorted(loaded & set(HEAVY))}"


def test_version_is_the_package_version():
    proc = subprocess.run(
        [sys.executable, "-m", "deltaprop", "--version"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"deltaprop {deltaprop.__version__}"
