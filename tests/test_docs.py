"""The Sphinx documentation builds offline without a single warning (``-W``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


def sphinx_build() -> list[str]:
    # The sphinx-build next to this interpreter, else the module (same environment either way).
    script = Path(sys.executable).with_name("sphinx-build")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sphinx"]


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    result = subprocess.run(
        [
            *sphinx_build(),
            "-W",
            "--keep-going",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            ".",
            str(tmp_path / "html"),
        ],
        cwd=DOCS,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout}\n{result.stderr}"
    assert (tmp_path / "html" / "index.html").exists()
