"""The import contracts in pyproject.toml (make lint runs them): they hold on the code, and they
break on an upward import, an app importing config, or a cycle between sibling modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "core", "accounts", "journeys", "surveys", "events", "metrics", "dashboards")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120
    )


def _copy(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_contract() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("accounts/upward.py", "from surveys import models\n", "accounts.upward -> surveys.models"),
        ("core/upward.py", "import accounts.models\n", "core.upward -> accounts.models"),
        ("journeys/root.py", "from config import settings\n", "journeys.root -> config.settings"),
        ("accounts/emails_again.py", "from accounts import tasks\n", None),
    ],
)
def test_a_wrong_import_breaks_the_lint(
    tmp_path: Path, module: str, line: str, broken: str | None
) -> None:
    root = _copy(tmp_path)
    if broken is None:  # a cycle: tasks imports a module that imports tasks back
        (root / "accounts" / "purges.py").write_text(
            (root / "accounts" / "purges.py").read_text() + "\nfrom accounts import emails_again\n"
        )
        broken = "No import cycles between the modules of a package BROKEN"
    (root / module).write_text(line)

    result = _lint(root)

    assert result.returncode == 1, result.stdout
    assert broken in result.stdout
    assert "0 broken" not in result.stdout
