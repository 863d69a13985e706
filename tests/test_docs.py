"""The docs: the README's and the package docstring's examples run, the reference builds clean."""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import blackjack

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_a_python_example() -> None:
    """The README shows a round played with the engine from Python."""
    assert any("Round(" in example for example in _readme_examples())


@pytest.mark.parametrize("example", _readme_examples())
def test_readme_python_examples_run(example: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each README Python example runs to the end and prints the seats' results."""
    for _ in range(20):  # different shuffles: insurance, splits, surrender...
        exec(compile(example, "README.md", "exec"), {})
    assert "'1':" in capsys.readouterr().out


def test_package_docstring_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The example in ``blackjack``'s docstring plays a round and prints a whole number."""
    doc = blackjack.__doc__ or ""
    code = textwrap.dedent(doc.split("::\n\n", 1)[1].split("\n\n", 1)[0])
    for seed in range(40):  # seed 7 is printed; others reach the insurance offer too
        exec(compile(code.replace("seed=7", f"seed={seed}"), "blackjack/__init__.py", "exec"), {})
    outputs = capsys.readouterr().out.split()
    assert len(outputs) == 40 and all(re.fullmatch(r"-?\d+", o) for o in outputs)


DOCS = README.parent / "docs" / "api"


def test_the_reference_docs_build_with_no_warning(tmp_path: Path) -> None:
    """Sphinx builds docs/api with warnings as errors, and the reference documents the verbs."""
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    reference = (tmp_path / "html" / "reference.html").read_text(encoding="utf-8")
    for documented in ("blackjack.round.Round.act", "blackjack.rules.Rules.from_spec",
                       "blackjack.errors.InvalidArgumentError", "blackjack.strategy.advise"):
        assert f'id="{documented}"' in reference, documented
    assert (tmp_path / "html" / "guide.html").exists()
    assert blackjack.__version__ in (tmp_path / "html" / "changelog.html").read_text(
        encoding="utf-8")


def test_the_guide_runs_as_written() -> None:
    """Every example in the guide runs and prints what the page shows (doctest)."""
    results = doctest.testfile(str(DOCS / "guide.rst"), module_relative=False,
                               optionflags=doctest.ELLIPSIS, report=True)
    assert results.attempted > 30
    assert results.failed == 0


def test_the_readme_links_to_the_docs() -> None:
    """The README's engine section links to the guide and the reference and says how to build them."""
    section = README.read_text(encoding="utf-8").split("## The engine from Python", 1)[1]
    section = section.split("\n## ", 1)[0]
    for link in ("docs/api/guide.rst", "docs/api/reference.rst", "docs/api/index.rst"):
        assert f"]({link})" in section, link
        assert (README.parent / link).exists(), link
    assert "python -m sphinx -W" in section
