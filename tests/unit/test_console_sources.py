"""The console's sources and build: payloads are never markup, dependencies are pinned, and the
first load stays small."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from herald.api import console_static

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "console" / "src"
# Ways to turn text into markup or code; the console uses none of them.
FORBIDDEN = re.compile(
    r"dangerouslySetInnerHTML|innerHTML|outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\("
)
FIRST_LOAD_LIMIT = 200 * 1024


def test_no_source_turns_text_into_markup() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in SOURCES.rglob("*.ts*")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if FORBIDDEN.search(line)
    ]
    assert offenders == []


def test_dependencies_are_pinned_and_locked() -> None:
    package = json.loads((ROOT / "console" / "package.json").read_text())
    lock = json.loads((ROOT / "console" / "package-lock.json").read_text())
    for section in ("dependencies", "devDependencies"):
        for name, version in package[section].items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version} is not an exact version"
            assert lock["packages"][f"node_modules/{name}"]["version"] == version


def _first_load() -> list[Path]:
    index = console_static.STATIC_DIR / "index.html"
    if not index.exists():
        pytest.fail("the console is not built: run `make console` (make test does)")
    html = index.read_text()
    assets = re.findall(r'(?:src|href)="\./(assets/[^"]+)"', html)
    return [index, *(console_static.STATIC_DIR / a for a in assets)]


def test_the_first_load_is_under_200_kb_compressed() -> None:
    files = _first_load()
    assert any(f.suffix == ".js" for f in files) and any(f.suffix == ".css" for f in files)
    compressed = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    assert compressed <= FIRST_LOAD_LIMIT, f"{compressed} bytes gzip"


def test_the_page_has_no_inline_script_or_style() -> None:
    html = (console_static.STATIC_DIR / "index.html").read_text() if _first_load() else ""
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html
