"""The pytest example in the repository's README runs as printed: a newcomer pastes it and it
passes (reference daemons, a remote connection, packets in the client's namespace)."""

from __future__ import annotations

import re

import pytest

from conftest import REPOSITORY, require_binary
from nsmcert import binaries
from test_plugin import run_inner


def readme_example() -> str:
    """The first python code block of the README's Python section."""
    text = (REPOSITORY / "README.md").read_text()
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "the README's Python section has no python code block"
    return blocks[0]


def test_the_readme_example_is_a_pytest_module():
    example = readme_example()
    assert "def test_" in example
    assert len(example.strip().splitlines()) <= 12, "the README promises a short example"


@pytest.mark.privileged
def test_the_readme_example_passes(pytester):
    for name in (binaries.REGISTRY, binaries.NSMGR, binaries.FORWARDER, binaries.NSE, binaries.NSC):
        require_binary(name)
    pytester.makepyfile(test_first=readme_example())
    result = run_inner(pytester, "-q")
    result.assert_outcomes(passed=1)
