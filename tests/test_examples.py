"""The scripts in examples/ run as they are, and do what their docstring says."""

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_train_by_hand_reaches_90_percent_on_the_digits():
    env = dict(os.environ, EPOCHS="5")
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "train_by_hand.py")],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 5, proc.stdout
    accuracy = float(re.search(r"test accuracy (\d\.\d+)", lines[-1]).group(1))
    assert accuracy >= 0.9, proc.stdout
