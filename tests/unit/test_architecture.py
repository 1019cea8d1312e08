"""The package's shape as rules: what import-linter cannot see about names, and what the docs claim.

import-linter (`make lint`) holds the layers between packages; these tests hold the rest of
docs/architecture.md: private names stay in their module, every package says its room, and the
architecture page names only modules that exist.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions" / "herald"
ARCHITECTURE = ROOT / "docs" / "architecture.md"


def _python_files(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            if "__pycache__" not in path.parts and "console_static" not in path.parts:
                yield path


def _private_imports(path: Path) -> list[str]:
    """`from herald.x import _y` and `herald.x._y` written outside herald.x itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("herald"):
            found += [f"{node.module}.{a.name}" for a in node.names if _is_private(a.name)]
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"herald(\.\w+)+", node.value)
            and _is_private(node.value.rsplit(".", 1)[1])
        ):
            # monkeypatch.setattr("herald.x._y", ...) and mock.patch("herald.x._y")
            found.append(node.value)
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _patched_private_attributes(path: Path) -> list[str]:
    """monkeypatch.setattr(module, "_name", ...): a test reaching into a module's privates."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"setattr", "object"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _is_private(node.args[1].value)
        ):
            found.append(f"{ast.unparse(node.args[0])}.{node.args[1].value} (line {node.lineno})")
    return found


@pytest.mark.parametrize(
    "path",
    list(_python_files(PACKAGE, ROOT / "tests", ROOT / "bench", ROOT / "infra")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_private_name_is_imported_across_modules(path: Path) -> None:
    assert _private_imports(path) == []


@pytest.mark.parametrize(
    "path", list(_python_files(ROOT / "tests", ROOT / "bench")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_test_patches_a_private_name(path: Path) -> None:
    assert _patched_private_attributes(path) == []


@pytest.mark.parametrize(
    "package",
    sorted(p.parent for p in PACKAGE.rglob("__init__.py") if "__pycache__" not in p.parts),
    ids=lambda p: str(p.relative_to(PACKAGE.parent)),
)
def test_every_package_states_its_room_in_its_docstring(package: Path) -> None:
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
    assert doc, f"{package.relative_to(ROOT)}/__init__.py has no docstring"


def test_the_architecture_page_names_only_modules_that_exist() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = set(re.findall(r"`herald((?:\.\w+)+)`", text))
    assert named, "docs/architecture.md names modules as `herald.x.y`"
    # `herald.notification.exhausted` and the like are event types, not modules: only names that
    # start with one of the package's own top-level entries are module references.
    top = {p.stem for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()}
    missing = []
    for dotted in sorted(named):
        parts = dotted.strip(".").split(".")
        if parts[0] not in top:
            continue
        base = PACKAGE.joinpath(*parts)
        # `herald.x.y.name` may name a function or class of module herald.x.y.
        module = PACKAGE.joinpath(*parts[:-1])
        if not (base.with_suffix(".py").is_file() or base.is_dir() or module.with_suffix(".py").is_file()):
            missing.append("herald" + dotted)
    assert missing == []


def test_the_architecture_page_covers_every_layer_package() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    layers = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    assert [layer for layer in layers if f"`herald.{layer}`" not in text] == []
