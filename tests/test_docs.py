"""The Python examples in the README and the package docstring run as written."""

from __future__ import annotations

import re
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
