"""The nsmcert pytest plugin (entry point ``pytest11``: loaded once the package is installed).

Fixtures (each torn down after the test, also when it fails):

``topology``
    A built :class:`~nsmcert.Topology`. Which one: ``@pytest.mark.topology("two-node")`` (a
    fixture name, a file path, YAML text or a dict), or indirect parametrization
    (``@pytest.mark.parametrize("topology", [...], indirect=True)``), else ``two-node``. Needs
    root; skipped otherwise.
``nsmcert_supervisor``
    A :class:`~nsmcert.Supervisor` logging to the test's temporary directory; closed (every
    process killed) at teardown.
``reference_domain``
    A started :class:`~nsmcert.ReferenceDomain` (registry, nsmgr and forwarder per node) on
    ``topology``; skipped with the reason when a daemon is not built.
``nse``
    An endpoint for ``icmp-responder`` in the topology's first ``nse`` workload.
``nsc``
    A client (not yet requested) for ``kernel://icmp-responder/nsm-1`` in the first ``nsc``
    workload; ``nsc.request()`` returns its connections.
``capture``
    A factory: ``capture(netns, interface, filter="")`` starts a :class:`~nsmcert.Capture` whose
    pcap file lives in the test's temporary directory. ``netns`` may name a topology element.

Marker ``privileged``: the test needs root (namespaces, netlink, capture) and is skipped otherwise.

When a test fails, its report gets one section per pcap (path and packet summaries) and per
daemon log (the tail) the fixtures produced, and the files are listed in the JUnit properties.
At session start, as root, leftovers of dead harness runs are swept.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

LOG_TAIL_LINES = 60
PCAP_PACKETS_SHOWN = 20
DEFAULT_TOPOLOGY = "two-node"


def is_root() -> bool:
    return os.geteuid() == 0


class Artifacts:
    """Files a test's fixtures produced, for its failure report."""

    def __init__(self) -> None:
        self.pcaps: List[str] = []
        # Callables returning {name: log path}: processes start during the test.
        self.log_sources: List[Callable[[], Dict[str, str]]] = []
        self.properties_added = False

    def logs(self) -> Dict[str, str]:
        found: Dict[str, str] = {}
        for source in self.log_sources:
            try:
                found.update(source())
            except Exception:  # a closed supervisor has no logs to offer; the files stay
                continue
        return found


ARTIFACTS = pytest.StashKey[Artifacts]()


def artifacts(item: pytest.Item) -> Artifacts:
    if ARTIFACTS not in item.stash:
        item.stash[ARTIFACTS] = Artifacts()
    return item.stash[ARTIFACTS]


# -- configuration --
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nsmcert")
    group.addoption(
        "--nsmcert-bin-dir",
        action="store",
        default=None,
        help="directory (or CMake build directory) holding the nsmcert daemons; sets NSMCERT_BIN_DIR",
    )
    group.addoption(
        "--nsmcert-no-sweep",
        action="store_true",
        default=False,
        help="do not sweep leftovers of dead harness runs at session start",
    )
    parser.addini("nsmcert_bin_dir", "like --nsmcert-bin-dir", default="")
    parser.addini("nsmcert_topology_dir", "directory of topology files (NSMCERT_TOPOLOGY_DIR)", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "privileged: needs root (network namespaces, netlink, capture); skipped otherwise"
    )
    config.addinivalue_line(
        "markers",
        "topology(source): the topology the `topology` fixture builds (a fixture name such as "
        "'two-node', a path, YAML text or a dict)",
    )
    bin_dir = config.getoption("--nsmcert-bin-dir") or config.getini("nsmcert_bin_dir")
    if bin_dir:
        os.environ["NSMCERT_BIN_DIR"] = str(Path(bin_dir).resolve())
    topology_dir = config.getini("nsmcert_topology_dir")
    if topology_dir:
        os.environ.setdefault("NSMCERT_TOPOLOGY_DIR", str(Path(config.rootpath, topology_dir)))


def pytest_sessionstart(session: pytest.Session) -> None:
    if is_root() and not session.config.getoption("--nsmcert-no-sweep"):
        from . import _core

        _core.sweep_leftovers()


def _require_root(what: str) -> None:
    if not is_root():
        pytest.skip(f"{what} needs root (network namespaces, netlink, packet capture)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("privileged") is not None:
        _require_root("this test")


# -- fixtures --
@pytest.fixture
def nsmcert_supervisor(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A Supervisor whose logs go to <tmp_path>/logs; closed at teardown."""
    from . import _core

    supervisor = _core.Supervisor(log_dir=str(tmp_path / "logs"))
    directory = Path(supervisor.log_dir)

    def logs() -> Dict[str, str]:
        return {p.stem: str(p) for p in sorted(directory.glob("*.log"))}

    artifacts(request.node).log_sources.append(logs)
    try:
        yield supervisor
    finally:
        supervisor.close()


@pytest.fixture
def topology(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A built Topology, torn down after the test (see the module doc for which one)."""
    _require_root("the topology fixture")
    from .topology import Topology

    source: Any = getattr(request, "param", None)
    if source is None:
        marker = request.node.get_closest_marker("topology")
        source = marker.args[0] if marker is not None and marker.args else DEFAULT_TOPOLOGY
    built = Topology.build(source)
    try:
        yield built
    finally:
        built.teardown()


@pytest.fixture
def reference_domain(
    request: pytest.FixtureRequest, topology: Any, nsmcert_supervisor: Any
) -> Iterator[Any]:
    """The reference registry, nsmgr and forwarder per node, started on `topology`."""
    from .binaries import BinaryNotFound
    from .domain import ReferenceDomain

    domain = ReferenceDomain(topology, supervisor=nsmcert_supervisor)
    try:
        domain.start()
    except BinaryNotFound as missing:
        domain.stop()
        pytest.skip(str(missing))
    try:
        yield domain
    finally:
        domain.stop()


def _first_workload(topology: Any, role: str) -> str:
    for workload in topology.workloads:
        if workload.role == role:
            return workload.name
    pytest.fail(f"topology {topology.name} has no workload with role {role!r}")


@pytest.fixture
def nse(reference_domain: Any, topology: Any) -> Any:
    """An icmp-responder endpoint in the first `nse` workload (skipped when not built)."""
    from .binaries import BinaryNotFound

    try:
        return reference_domain.nse(_first_workload(topology, "nse"), services=["icmp-responder"])
    except BinaryNotFound as missing:
        pytest.skip(str(missing))


@pytest.fixture
def nsc(reference_domain: Any, topology: Any) -> Iterator[Any]:
    """A client for kernel://icmp-responder/nsm-1 in the first `nsc` workload (skipped when not
    built); call .request() for its connections."""
    from . import binaries

    try:
        binaries.require(binaries.NSC)
    except binaries.BinaryNotFound as missing:
        pytest.skip(str(missing))
    client = reference_domain.nsc(_first_workload(topology, "nsc"), ["kernel://icmp-responder/nsm-1"])
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def capture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """A factory of Captures; each writes <tmp_path>/pcaps/<n>-<interface>.pcap, is stopped at
    teardown, and is attached to the report of a failing test."""
    from .packets import Capture

    started: List[Capture] = []
    directory = tmp_path / "pcaps"

    def start(netns: Any, interface: str, filter: str = "", **kwargs: Any) -> Capture:
        if isinstance(netns, str) and not netns.startswith("/") and "topology" in request.fixturenames:
            topo = request.getfixturevalue("topology")
            if netns in {ns.element for ns in topo.namespaces()}:
                netns = topo.namespace(netns)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{len(started) + 1}-{interface}.pcap"
        cap = Capture(netns, interface, filter=filter, pcap_path=path, **kwargs)
        started.append(cap)
        artifacts(request.node).pcaps.append(str(path))
        return cap

    try:
        yield start
    finally:
        for cap in started:
            try:
                cap.stop()
            except Exception:  # an interface that vanished with its namespace is no news here
                pass


# -- failure reports --
def _pcap_section(path: str) -> str:
    from . import _core

    lines = [f"file: {path}"]
    try:
        contents = _core.read_pcap(path)
    except Exception as error:  # an empty or unreadable file still says something
        lines.append(f"(cannot read: {error})")
        return "\n".join(lines)
    packets = contents.packets
    lines.append(f"{len(packets)} packet(s)")
    start = packets[0].timestamp if packets else 0.0
    for index, packet in enumerate(packets[:PCAP_PACKETS_SHOWN], 1):
        lines.append(f"  #{index} +{(packet.timestamp - start) * 1e3:.3f}ms {packet.summary}")
    if len(packets) > PCAP_PACKETS_SHOWN:
        lines.append(f"  ... {len(packets) - PCAP_PACKETS_SHOWN} more")
    return "\n".join(lines)


def _log_section(path: str) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as error:
        return f"file: {path}\n(cannot read: {error})"
    lines = text.splitlines()
    shown = lines[-LOG_TAIL_LINES:]
    head = f"file: {path} (last {len(shown)} of {len(lines)} lines)"
    return "\n".join([head, *shown])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed or ARTIFACTS not in item.stash:
        return
    found = item.stash[ARTIFACTS]
    properties = []
    for path in found.pcaps:
        report.sections.append((f"nsmcert pcap {Path(path).name}", _pcap_section(path)))
        properties.append(("nsmcert_pcap", path))
    for name, path in found.logs().items():
        report.sections.append((f"nsmcert log {name}", _log_section(path)))
        properties.append(("nsmcert_log", path))
    if not found.properties_added:
        # JUnit XML takes a test's properties from its teardown report, which copies the item's.
        found.properties_added = True
        item.user_properties.extend(properties)
        report.user_properties.extend(properties)
