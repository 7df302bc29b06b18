"""Side-by-side benchmarks of deltaprop against PyTorch and scikit-learn.

    python -m benchmarks.speed [--quick] [--json out.json]

This package imports nothing at import time: ``benchmarks.speed`` must set the thread and BLAS
environment variables before NumPy or PyTorch are loaded.
"""
