"""The project carries its own spec (docs/rules.md, docs/api.md, docs/architecture.md): code, tests, templates and
docs cite those files, never design documents kept outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"\b(RULES|API|DESIGN|STYLE)\.md\b|\.\./shared/|/work/shared")
CHECKED = ("marketplace", "tests", "templates", "static", "bench", "migrations", "docs")


def _files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in CHECKED:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".html", ".js", ".css", ".md"}]
    return files


def test_the_own_docs_exist() -> None:
    for name in ("rules.md", "api.md", "architecture.md", "decisions.md"):
        assert (ROOT / "docs" / name).stat().st_size > 1000, name


def test_nothing_cites_documents_outside_the_repository() -> None:
    this = Path(__file__).resolve()
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _files() if path.resolve() != this
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []
