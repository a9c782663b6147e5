"""Vigie: forensic triage of seized imagery."""

import os

# Vigie parallelises with processes, one per core; BLAS threads on top of them fight over the same cores
# (measured: 3x slower scans). Set before numpy loads; a user's explicit setting wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

__version__ = "0.1.0"
