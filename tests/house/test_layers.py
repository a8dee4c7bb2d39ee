"""The house rules: imports run one way down the layers, no cycles, each job in its one place.

docs/architecture.md draws the layers; pyproject.toml's [tool.importlinter]
states them; these tests fail a change that breaks them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "digest"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(config: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layer_contract_holds() -> None:
    done = lint_imports(REPO / "pyproject.toml", REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_an_import_against_the_layers_fails_the_contract(tmp_path: Path) -> None:
    """A copy of the package where a stage imports the CLI: the same contract must refuse it."""
    copy = tmp_path / "digestcopy"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    text = copy / "render" / "text.py"
    text.write_text(text.read_text() + "\nfrom ..cli import main  # noqa\n")
    contract = (REPO / "pyproject.toml").read_text().split("[tool.importlinter]", 1)[1]
    config = tmp_path / "contract.toml"
    config.write_text("[tool.importlinter]" + re.sub(r"\bdigest\b", "digestcopy", contract))
    done = lint_imports(config, tmp_path)
    assert done.returncode == 1, done.stdout
    assert "digestcopy.render.text -> digestcopy.cli" in done.stdout


def test_no_module_takes_part_in_an_import_cycle() -> None:
    graph = grimp.build_graph("digest")
    cycles = {
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if graph.find_shortest_chain(importer=imported, imported=importer)
    }
    assert cycles == set()


def test_few_modules_stand_loose_at_the_root() -> None:
    loose = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(loose) <= 8, loose


def test_only_history_runs_sql() -> None:
    outside = [
        f"{path.relative_to(REPO)}:{number}"
        for path in PACKAGE.rglob("*.py")
        if "history" not in path.relative_to(PACKAGE).parts[:1]
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\.(execute|executemany|executescript)\(", line)
    ]
    assert outside == []


def test_only_render_builds_templates_and_messages() -> None:
    outside = [
        f"{path.relative_to(REPO)}:{number}"
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "render"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\b(Environment\(|get_template\(|EmailMessage\(\))", line)
    ]
    assert outside == []


def test_every_package_folder_ships_in_the_wheel() -> None:
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {
        ".".join(path.parent.relative_to(REPO).parts) for path in PACKAGE.rglob("__init__.py")
    }
    templates = {"digest.templates"} | {
        f"digest.templates.{path.name}" for path in (REPO / "templates").iterdir() if path.is_dir()
    }
    assert folders | templates == listed
