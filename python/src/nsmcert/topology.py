"""Topologies: nodes and workloads as network namespaces, built from a YAML file, a dict or a
spec, and always torn down.

>>> with nsmcert.Topology.build("two-node") as topo:          # fixtures/topologies/two-node.yaml
...     topo.connect("nsc-a", "nse-b", "10.0.0.1/24", "10.0.0.2/24")
...     assert topo.ping("nsc-a", "10.0.0.2")
"""

from __future__ import annotations

import subprocess
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from . import _core, paths

SpecLike = Union[_core.TopologySpec, Mapping[str, Any], "paths.PathLike"]


def load_spec(source: SpecLike) -> _core.TopologySpec:
    """A validated TopologySpec from a spec, a dict (the YAML model), YAML text, a file path or a
    fixture name (``"two-node"``)."""
    if isinstance(source, _core.TopologySpec):
        return source
    if isinstance(source, Mapping):
        import yaml  # only needed for topologies written in code

        # Without a "name" the topology is called "topology" (the source name's stem).
        return _core.parse_topology(yaml.safe_dump(dict(source), sort_keys=False), "topology")
    text = str(source)
    if "\n" in text or text.lstrip().startswith(("name:", "fabric:", "nodes:")):
        return _core.parse_topology(text, "<string>")
    return _core.load_topology_file(str(paths.find_topology(source)))


class Topology:
    """A built topology. Owns its namespaces: :meth:`teardown` (also on ``with`` exit and when
    collected) kills every process inside and deletes them."""

    def __init__(self, built: _core.Topology):
        self._built = built
        self._torn_down = False

    @classmethod
    def build(
        cls,
        source: SpecLike,
        *,
        run_id: Optional[str] = None,
        handle_signals: bool = True,
        marker_dir: Optional[str] = None,
    ) -> "Topology":
        """Builds the namespaces of ``source`` (see :func:`load_spec`)."""
        spec = load_spec(source)
        return cls(
            _core.Topology.build(
                spec, run_id=run_id, marker_dir=marker_dir, handle_signals=handle_signals
            )
        )

    def teardown(self) -> None:
        """Kills processes inside, deletes the namespaces. Idempotent."""
        self._torn_down = True
        self._built.teardown()

    def __enter__(self) -> "Topology":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.teardown()

    @property
    def torn_down(self) -> bool:
        return self._torn_down

    @property
    def core(self) -> _core.Topology:
        """The engine object (for the bindings that take one)."""
        return self._built

    @property
    def run_id(self) -> str:
        return self._built.run_id

    @property
    def namespace_prefix(self) -> str:
        """``nsmc-<run id>-``: the prefix of every namespace of this run."""
        return self._built.namespace_prefix

    @property
    def spec(self) -> _core.TopologySpec:
        return self._built.spec

    @property
    def name(self) -> str:
        return self._built.spec.name

    @property
    def fabric(self) -> _core.Namespace:
        return self._built.fabric

    @property
    def nodes(self) -> List[_core.Node]:
        return list(self._built.nodes)

    @property
    def workloads(self) -> List[_core.Workload]:
        return list(self._built.workloads)

    def node(self, name: str) -> _core.Node:
        return self._built.node(name)

    def workload(self, name: str) -> _core.Workload:
        return self._built.workload(name)

    def namespace(self, element: str) -> _core.Namespace:
        """The namespace of ``"fabric"``, a node or a workload."""
        return self._built.namespace(element)

    def namespaces(self) -> List[_core.Namespace]:
        return list(self._built.namespaces())

    def netlink(self, element: str) -> _core.Netlink:
        """A netlink socket inside an element's namespace."""
        return _core.Netlink.open(self.namespace(element).path)

    def run(
        self,
        element: str,
        argv: Sequence[str],
        *,
        check: bool = False,
        timeout: float = 30.0,
        **kwargs: Any,
    ) -> subprocess.CompletedProcess:
        """Runs a short command inside an element's namespace (``ip netns exec``) and returns the
        completed process, output captured as text. Daemons belong in a Supervisor instead."""
        ns = self.namespace(element)
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run(
            ["ip", "netns", "exec", ns.name, *argv], check=check, timeout=timeout, **kwargs
        )

    def ping(self, element: str, address: str, *, count: int = 1, timeout: float = 2.0) -> bool:
        """True when ``count`` echo requests from ``element`` to ``address`` are all answered."""
        argv = ["ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", str(max(1, int(timeout)))]
        if ":" in address:
            argv.append("-6")
        result = self.run(element, [*argv, address], timeout=timeout * count + 5)
        return result.returncode == 0

    def connect(
        self,
        a: str,
        b: str,
        cidr_a: str,
        cidr_b: str,
        *,
        interface_a: str = "veth0",
        interface_b: str = "veth0",
        mtu: int = 0,
    ) -> Dict[str, str]:
        """Wires two elements with a veth pair (the end in ``a`` is ``interface_a``), gives each
        end its address, and brings both up. A direct link, no forwarder: a baseline, or a way to
        have traffic to capture. Returns {element: interface}."""
        nl_a = self.netlink(a)
        nl_a.create_veth(interface_a, interface_b, peer_netns=self.namespace(b).path, mtu=mtu)
        nl_b = self.netlink(b)
        nl_a.add_address(interface_a, cidr_a)
        nl_b.add_address(interface_b, cidr_b)
        nl_a.set_up(interface_a)
        nl_b.set_up(interface_b)
        return {a: interface_a, b: interface_b}

    def __repr__(self) -> str:
        return f"<Topology {self.name} run {self.run_id}>"
