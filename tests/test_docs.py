"""The docs are tested: every Python code block of README.md and docs/ runs,
every example in docs/api.md's tables runs, every public name is in the API
reference, and nothing points outside the repository."""
import inspect
import pathlib
import re

import pytest

import tensorstitch as ts

ROOT = pathlib.Path(__file__).parent.parent
DOCS = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def code_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_code_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope = {}
    for k, block in enumerate(code_blocks(path)):
        exec(compile(block, f"{path.name} block {k}", "exec"), scope)  # noqa: S102 - our own docs


def table_examples(text):
    """The third column of every table row: one inline-code example each."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) == 3 and cells[2].startswith("`") and cells[2].endswith("`"):
            rows.append((cells[0], cells[2][1:-1].replace("\\|", "|")))
    return rows


def test_api_reference_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = ROOT / "docs" / "api.md"
    scope = {}
    for block in code_blocks(path):
        exec(compile(block, "api.md", "exec"), scope)  # noqa: S102
    examples = table_examples(path.read_text())
    assert len(examples) > 60
    for name, example in examples:
        try:
            exec(compile(example, f"api.md: {name}", "exec"), scope)  # noqa: S102
        except Exception as e:  # name the row that failed
            raise AssertionError(f"docs/api.md row {name}: {example!r} raised {e!r}") from e


def public_names():
    names = {n for n in dir(ts) if not n.startswith("_") and not inspect.ismodule(getattr(ts, n))}
    for cls in (ts.Graph, ts.Tensor, ts.NDArray, ts.Executable, ts.Future, ts.Operation):
        names |= {n for n in dir(cls) if not n.startswith("_")}
    return names


def test_api_reference_names_every_public_name():
    words = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", (ROOT / "docs" / "api.md").read_text()))
    missing = sorted(public_names() - words)
    assert not missing, f"docs/api.md does not mention {missing}"


def test_nothing_points_outside_the_repository():
    offenders = []
    for path in DOCS + sorted((ROOT / "python").rglob("*.py")):
        for k, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"shared/|API\.md|DESIGN\.md", line):
                offenders.append(f"{path.relative_to(ROOT)}:{k}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
