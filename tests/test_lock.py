"""Reproducible installs: constraints.txt pins every package, and `make install` (so CI) installs from it.

A fresh machine in six months must install what was tested, not whatever is newest then.
Updating is deliberate: `make lock`, then `make test`, then commit pyproject.toml and
constraints.txt together (README, "Dependencies").
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import distributions

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from warehouse.settings import PROJECT_ROOT

CONSTRAINTS = PROJECT_ROOT / "constraints.txt"
# Installed by `make install` itself, not by the project's requirements.
INSTALLER_TOOLS = {"pip", "setuptools", "uv", "wheel", "safeguarding-warehouse"}


def pins() -> dict[str, str]:
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def test_every_installed_package_is_the_pinned_version():
    pinned = pins()
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    unpinned = sorted(set(installed) - set(pinned) - INSTALLER_TOOLS)
    assert unpinned == [], f"installed but not in constraints.txt (run `make lock`): {unpinned}"
    differ = {name: (installed[name], pinned[name]) for name in set(installed) & set(pinned)
              if installed[name] != pinned[name]}
    assert differ == {}, f"installed version != pinned version (run `make install`): {differ}"


def test_every_requirement_of_the_project_is_pinned_within_its_range():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    pinned = pins()
    for text in project["dependencies"] + project["optional-dependencies"]["test"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is not in constraints.txt: run `make lock`"
        assert requirement.specifier.contains(pinned[name], prereleases=True), \
            f"{requirement.name}=={pinned[name]} in constraints.txt is outside {requirement.specifier}: run `make lock`"


def test_make_install_and_ci_install_from_the_constraints():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    install = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "constraints.txt" in install.splitlines()[0]  # a new lock reinstalls
    assert "--constraint constraints.txt" in install
    assert re.search(r"uv==\$\(UV_VERSION\)", install)  # the installer itself is pinned too
    lock = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert "uv pip compile pyproject.toml --extra test" in lock and "-o constraints.txt" in lock
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()  # CI: make test, which depends on install
    assert re.search(r"^test: install\b", makefile, re.M)
