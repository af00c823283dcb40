"""The docs follow the code: every module is in docs/architecture.md, every setting the app reads is in
docs/configuration.md, and every relative link in README.md and docs/ reaches a file (and a heading) that exists."""

from __future__ import annotations

import ast
import re
import types
from pathlib import Path

import pytest

from chalicelib import settings

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"
SETTING = re.compile(r"(?:LIFESHOP|STRIPE)_[A-Z0-9_]+")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _outside_code_fences(text: str) -> list[str]:
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def _section(text: str, heading: str) -> str:
    """The lines under `heading` up to the next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = _outside_code_fences(text)
    start = lines.index(heading) + 1
    end = next(
        (i for i in range(start, len(lines)) if re.match(rf"#{{1,{level}}} ", lines[i])),
        len(lines),
    )
    return "\n".join(lines[start:end])


# Modules


def _has_code(path: Path) -> bool:
    """A package's __init__.py counts only when it holds more than a docstring (chalicelib/workers/ does)."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in body)


def modules() -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "chalicelib").rglob("*.py")
        if path.name != "__init__.py" or _has_code(path)
    }


def documented_modules() -> set[str]:
    section = _section(ARCHITECTURE.read_text(encoding="utf-8"), "## Every module")
    return set(re.findall(r"^- `(chalicelib/[^`]+\.py)`", section, re.MULTILINE))


def test_every_module_is_in_the_architecture_doc():
    missing = sorted(modules() - documented_modules())
    assert not missing, f"docs/architecture.md, 'Every module', needs a line for each of: {missing}"


def test_the_architecture_doc_names_no_module_that_is_gone():
    gone = sorted(documented_modules() - modules())
    assert not gone, f"docs/architecture.md, 'Every module', lists modules that do not exist: {gone}"


# Settings


class _Recorder(dict):
    """An empty environment that remembers every variable asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def get(self, key, default=None):
        self.asked.append(key)
        return default


def settings_read(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The LIFESHOP_* / STRIPE_* variables the settings loader reads, found by running it on an empty environment."""
    environ = _Recorder()
    monkeypatch.setattr(settings, "os", types.SimpleNamespace(environ=environ))
    settings.Settings()
    names = {name for name in environ.asked if SETTING.fullmatch(name)}
    # The recorder saw the loader at work (a loader that reads the environment another way must update this test).
    assert {"LIFESHOP_STAGE", "LIFESHOP_DAILY_CAPS", "STRIPE_API_KEY"} <= names
    return names


def documented_settings() -> set[str]:
    section = _section(CONFIGURATION.read_text(encoding="utf-8"), "## What the app reads")
    return set(re.findall(rf"^\| `({SETTING.pattern})`", section, re.MULTILINE))


def test_every_setting_the_app_reads_is_in_the_configuration_doc(monkeypatch):
    missing = sorted(settings_read(monkeypatch) - documented_settings())
    assert not missing, f"docs/configuration.md, 'What the app reads', needs a row for each of: {missing}"


def test_the_configuration_doc_names_no_setting_the_app_does_not_read(monkeypatch):
    unread = sorted(documented_settings() - settings_read(monkeypatch))
    assert not unread, f"docs/configuration.md, 'What the app reads', has rows the app never reads: {unread}"


# Links


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text without markup, lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("*", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for line in _outside_code_fences(path.read_text(encoding="utf-8")):
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            slug = _slug(match.group(1))
            found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
            seen[slug] = seen.get(slug, 0) + 1
    return found


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", ROOT / "infra" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def broken_links(page: Path) -> list[str]:
    broken = []
    for line in _outside_code_fences(page.read_text(encoding="utf-8")):
        for target in LINK.findall(line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                broken.append(f"{target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                broken.append(f"{target} (no such heading)")
    return broken


@pytest.mark.parametrize("page", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    assert not broken_links(page), f"{page.relative_to(ROOT)}: {broken_links(page)}"


def test_docs_named_in_code_comments_exist():
    named = set()
    for path in [
        ROOT / "app.py",
        ROOT / "Makefile",
        *(ROOT / "chalicelib").rglob("*.py"),
        *(ROOT / "tools").rglob("*.py"),
    ]:
        named |= set(re.findall(r"\bdocs/[\w/.-]+\.md\b", path.read_text(encoding="utf-8")))
    assert named, "expected code comments to point into docs/"
    missing = sorted(name for name in named if not (ROOT / name).exists())
    assert not missing, f"code points to docs that do not exist: {missing}"
