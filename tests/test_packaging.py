"""Release habits: the built wheel and sdist install and run, the metadata tells the truth.

One wheel and sdist are built per test session (``python -m build`` makes
the sdist, then the wheel from the unpacked sdist, so the wheel proves the
sdist builds), and one fresh venv gets the wheel with no extras and no
package index: the engine must install and run with nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import blackjack
from engine_helpers import ROOT, engine_modules

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
_COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
    ".hypothesis", ".mypy_cache", "*.sqlite3*", "dropin.cache")


def _clean_env() -> dict[str, str]:
    """The environment less PYTHONPATH and VIRTUAL_ENV: with the checkout on the path (and
    the egg-info a source install leaves there), pip would take blackjack as installed."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Venv:
    """A fresh venv holding only the wheel (and the pip and setuptools venv brings)."""

    python: Path
    home: Path

    def run(self, *args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the venv's Python isolated (-I: no PYTHONPATH, not the checkout) in its home."""
        command = [str(self.python), "-I", *(("-c", code) if code is not None else args)]
        return subprocess.run(command, cwd=self.home, env=_clean_env(), capture_output=True,
                              text=True, timeout=300)


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The wheel and sdist ``python -m build`` makes from a copy of this checkout."""
    # A copy, so the build's egg-info and build/ stay out of the checkout.
    source = tmp_path_factory.mktemp("source") / "blackjack"
    shutil.copytree(ROOT, source, ignore=_COPY_IGNORE)
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(source)],
                          env=_clean_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Building wheel from sdist" in done.stdout + done.stderr  # the wheel proves the sdist
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return Dists(wheel, sdist)


@pytest.fixture(scope="session")
def engine_venv(dists: Dists, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A new venv with the wheel installed without extras and without an index."""
    home = tmp_path_factory.mktemp("engine-venv")
    subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], env=_clean_env(),
                   check=True, timeout=300)
    python = home / "venv" / "bin" / "python"
    # --no-index: were any dependency declared, this install would fail.
    done = subprocess.run([str(python), "-m", "pip", "install", "--no-index",
                           "--disable-pip-version-check", str(dists.wheel)],
                          env=_clean_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Successfully installed blackjack-" in done.stdout, done.stdout
    return Venv(python, home)


def _readme_engine_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The engine from Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)[0]


def test_the_wheel_installs_with_no_third_party_package(engine_venv: Venv) -> None:
    """The venv holds blackjack and what venv itself brings, and no Twisted is importable.

    The wheel's twistd plugin file makes ``twisted`` a namespace holding only
    ``twisted.plugins``: nothing of Twisted itself (``twisted.internet``) is there.
    """
    done = engine_venv.run(code=(
        "import importlib.metadata as m, importlib.util as u, os, twisted\n"
        "print(sorted(d.metadata['Name'].lower() for d in m.distributions()))\n"
        "print(sorted(n for p in twisted.__path__ for n in os.listdir(p)),"
        " getattr(twisted, '__file__', None))\n"
        "print(u.find_spec('twisted.internet'), u.find_spec('orjson'), u.find_spec('zope'))"))
    assert done.returncode == 0, done.stderr
    installed, namespace, specs = done.stdout.splitlines()
    assert set(eval(installed)) <= {"blackjack", "pip", "setuptools"}
    assert "blackjack" in installed
    assert namespace == "['plugins'] None"
    assert specs == "None None None"


@pytest.mark.parametrize("module", engine_modules())
def test_every_engine_module_imports_from_the_wheel(engine_venv: Venv, module: str) -> None:
    """Each engine module imports from the installed wheel, not the checkout, with nothing else."""
    done = engine_venv.run(code=f"import {module}; print({module}.__file__)")
    assert done.returncode == 0, done.stderr
    assert str(engine_venv.home / "venv") in done.stdout


def test_the_readme_engine_example_runs_from_the_wheel(engine_venv: Venv) -> None:
    """The README's engine example plays a round and prints each seat's net."""
    done = engine_venv.run(code=_readme_engine_example())
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"\{'1': -?\d+, '3': -?\d+\}\n", done.stdout), done.stdout


def test_the_simulator_runs_from_the_wheel(engine_venv: Venv) -> None:
    """``python -m blackjack.simulate`` plays and reports with no server dependency installed."""
    done = engine_venv.run("-m", "blackjack.simulate", "--hands", "2000", "--seed", "1", "--json")
    assert done.returncode == 0, done.stderr
    assert '"hands": 2000' in done.stdout


def test_the_analyser_runs_from_the_wheel(engine_venv: Venv) -> None:
    """``python -m blackjack.analysis`` prints the house edge with no server dependency installed."""
    done = engine_venv.run("-m", "blackjack.analysis")
    assert done.returncode == 0, done.stderr
    assert "House edge, basic strategy" in done.stdout


def test_the_server_needs_its_extra(engine_venv: Venv) -> None:
    """Without the server extra, the module twistd's plugin names fails on Twisted, not on the engine."""
    plugin = (ROOT / "twisted" / "plugins" / "blackjack_plugin.py").read_text(encoding="utf-8")
    tap = re.search(r'"(blackjack\.server\.[\w.]+)"', plugin)
    assert tap is not None
    done = engine_venv.run(code=f"import {tap.group(1)}")
    assert done.returncode != 0
    assert "ModuleNotFoundError: No module named 'twisted." in done.stderr


def test_the_wheel_metadata(dists: Dists) -> None:
    """The wheel's metadata has the version, the licence, the classifiers, and no dependency
    outside an extra."""
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = wheel.namelist()
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = wheel.read(info).decode()
    assert f"Version: {blackjack.__version__}\n" in metadata
    assert "License-Expression: MIT\n" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "blackjack/py.typed" in names
    assert "twisted/plugins/blackjack_plugin.py" in names
    requires = re.findall(r"^Requires-Dist: (.*)$", metadata, re.M)
    assert requires and all("; extra ==" in line for line in requires), requires
    assert 'twisted[websocket]>=25.5; extra == "server"' in requires
    assert "Classifier: Typing :: Typed" in metadata
    assert not any(n.startswith("tests/") for n in names)


def test_the_sdist_holds_the_source(dists: Dists) -> None:
    """The sdist carries the licence, the changelog, the docs, the tests and the scripts."""
    with tarfile.open(dists.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for needed in ("LICENSE", "CHANGELOG.rst", "README.md", "pyproject.toml",
                   "docs/api/conf.py", "docs/api/guide.rst", "docs/performance.md",
                   "tests/test_packaging.py", "tests/conftest.py", "scripts/bench_engine.py",
                   "blackjack/py.typed"):
        assert needed in names, needed
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_the_version_is_written_in_one_place() -> None:
    """pyproject.toml reads the version from blackjack.__version__, and the changelog's newest
    release is that version."""
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "blackjack.__version__"}
    changelog = (ROOT / "CHANGELOG.rst").read_text(encoding="utf-8")
    newest = re.search(r"^(\d+\.\d+\.\d+)\b.*\n-+$", changelog, re.M)
    assert newest is not None and newest.group(1) == blackjack.__version__


def test_the_oldest_python_claimed_is_the_one_tested() -> None:
    """requires-python, the classifiers and mypy's target agree, and CI runs that very version."""
    floor = re.fullmatch(r">=(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert floor is not None
    oldest = (int(floor.group(1)), int(floor.group(2)))
    versions = [tuple(map(int, c.rsplit(" ", 1)[1].split(".")))
                for c in PYPROJECT["project"]["classifiers"]
                if re.fullmatch(r"Programming Language :: Python :: \d+\.\d+", c)]
    assert min(versions) == oldest
    assert PYPROJECT["tool"]["mypy"]["python_version"] == "{}.{}".format(*oldest)
    assert sys.version_info[:2] >= oldest
    if os.environ.get("CI"):
        assert sys.version_info[:2] == oldest, "CI must run the oldest Python the metadata claims"

