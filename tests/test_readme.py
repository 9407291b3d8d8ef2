"""Each addon's README.rst is generated from its readme/ fragments and kept in step."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_rst_matches_fragments():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "readme.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout
