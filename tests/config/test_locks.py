"""The two lock files agree: production runs exactly the versions the tests ran with."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", re.M)


def _pins(name: str) -> dict[str, str]:
    return {pkg.lower(): version for pkg, version in PIN.findall((ROOT / name).read_text())}


def test_runtime_lock_is_a_subset_of_the_dev_lock_at_the_same_versions() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert runtime, "requirements.lock pins nothing"
    assert {pkg: (v, dev.get(pkg)) for pkg, v in runtime.items() if dev.get(pkg) != v} == {}


def test_every_pin_has_hashes_and_django_is_the_lts() -> None:
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / name).read_text()
        blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if "==" in b]
        assert all("--hash=sha256:" in block for block in blocks), name
        assert _pins(name)["django"].startswith("5.2.")
    assert "pytest" not in _pins("requirements.lock")
