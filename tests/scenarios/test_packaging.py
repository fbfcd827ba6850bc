"""Every file of the bank ships in the wheel (package-data globs in pyproject.toml)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BANK = ROOT / "scenarios"


def test_package_data_covers_every_scenario_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["scenarios"]
    shipped = {p for pat in patterns for p in BANK.glob(pat) if p.is_file()}
    missing = []
    for path in BANK.rglob("*"):
        rel = path.relative_to(BANK)
        if not path.is_file() or "__pycache__" in rel.parts or path.suffix == ".pyc":
            continue
        if len(rel.parts) == 1 and path.suffix == ".py":
            continue  # modules of the scenarios package itself
        if path not in shipped:
            missing.append(str(rel))
    assert missing == [], f"add package-data globs for: {missing}"
