"""`logscope --help` must start fast: heavy modules load only when a command needs them."""

from __future__ import annotations

import subprocess
import sys


def test_cli_import_does_not_load_heavy_modules() -> None:
    code = (
        "import sys, logscope.cli; "
        "print(','.join(m for m in ('polars', 'plotly', 'scipy', 'numpy', 'pyarrow', 'yaml') "
        "if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""
