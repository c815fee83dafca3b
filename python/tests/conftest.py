"""Shared helpers of the Python layer's tests.

Tests that need root carry the `privileged` marker (or use the `topology` fixture) and are skipped
otherwise. Tests that need a daemon skip, naming it, until it is built (nsmcert.binaries).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

import nsmcert
from nsmcert import binaries

REPOSITORY = Path(__file__).resolve().parents[2]
FIXTURES = REPOSITORY / "fixtures"

# Inner pytest sessions (test_plugin.py) run in temporary directories, outside the checkout: tell
# them where the topology fixtures are. Binaries: NSMCERT_BIN_DIR, or this checkout's build.
os.environ.setdefault("NSMCERT_TOPOLOGY_DIR", str(FIXTURES / "topologies"))
if "NSMCERT_BIN_DIR" not in os.environ and (REPOSITORY / "build" / "default").is_dir():
    os.environ["NSMCERT_BIN_DIR"] = str(REPOSITORY / "build" / "default")


def require_binary(name: str) -> str:
    """The path of an nsmcert binary, or a skip naming what to build."""
    try:
        return binaries.require(name)
    except binaries.BinaryNotFound as missing:
        pytest.skip(str(missing))


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short temporary directory for unix sockets (paths are limited to 108 bytes, and
    pytest's tmp_path can be longer)."""
    with tempfile.TemporaryDirectory(prefix="nsmt-") as path:
        yield Path(path)


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[nsmcert.Supervisor]:
    sup = nsmcert.Supervisor(log_dir=str(tmp_path / "logs"))
    try:
        yield sup
    finally:
        sup.close()


def harness_namespaces(prefix: str) -> list:
    return [name for name in nsmcert.list_named_netns() if name.startswith(prefix)]


@pytest.fixture
def registry_binary() -> str:
    return require_binary(binaries.REGISTRY)


def pytest_report_header(config: pytest.Config) -> list:
    found = {name: binaries.find(name) for name in
             (binaries.REGISTRY, binaries.NSMGR, binaries.FORWARDER, binaries.NSE, binaries.NSC,
              binaries.CLI)}
    lines = [f"nsmcert {nsmcert.__version__} from {Path(nsmcert.__file__).parent}"]
    lines += [f"  {name}: {path or 'not found'}" for name, path in found.items()]
    lines.append(f"  running as {'root' if os.geteuid() == 0 else 'non-root (privileged tests skip)'}")
    return lines
