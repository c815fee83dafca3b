"""Topologies built and torn down through the bindings, checked from Python with the kernel's own
tools (ip, ping) and the netlink bindings."""

from __future__ import annotations

import subprocess

import pytest

import nsmcert
from conftest import FIXTURES, harness_namespaces

pytestmark = pytest.mark.privileged


def ip_netns_list() -> set:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def test_two_node_fixture_builds_and_tears_down():
    topo = nsmcert.Topology.build("two-node")
    prefix = topo.namespace_prefix
    audit = nsmcert.LeakAudit.begin(namespace_prefix=prefix)
    try:
        expected = {f"{prefix}{element}" for element in ("fabric", "node-a", "node-b", "nsc-a", "nse-b")}
        assert expected <= ip_netns_list()
        assert {ns.name for ns in topo.namespaces()} == expected
        assert topo.name == "two-node" and len(topo.run_id) == 6
        assert [n.name for n in topo.nodes] == ["node-a", "node-b"]
        assert {w.name: (w.node, w.role) for w in topo.workloads} == {
            "nsc-a": ("node-a", "nsc"),
            "nse-b": ("node-b", "nse"),
        }

        node_a = topo.node("node-a")
        assert node_a.underlay == "10.100.0.1/24" and node_a.address == "10.100.0.1"
        addresses = topo.netlink("node-a").addresses("ul0")
        assert [a["cidr"] for a in addresses] == ["10.100.0.1/24"]
        fabric_links = {link["name"]: link for link in topo.netlink("fabric").links()}
        assert fabric_links["br0"]["kind"] == "bridge"
        assert fabric_links["ul-node-a"]["master_index"] == fabric_links["br0"]["index"]
        # Workloads hold only lo: the forwarder plumbs them.
        assert [link["name"] for link in topo.netlink("nsc-a").links()] == ["lo"]

        assert topo.ping("node-a", "10.100.0.2", count=2)
        shown = topo.run("node-b", ["ip", "-brief", "address", "show", "ul0"], check=True).stdout
        assert "10.100.0.2/24" in shown
    finally:
        topo.teardown()
    assert not (ip_netns_list() & {ns for ns in harness_namespaces(prefix)})
    assert not harness_namespaces(prefix)
    report = audit.check()
    assert not report["namespaces"], report["text"]


def test_topology_written_in_code():
    spec = {
        "name": "triangle",
        "fabric": {"underlay": "10.77.0.0/24", "mtu": 1400},
        "nodes": [
            {"name": f"n{i}", "address": f"10.77.0.{i}", "workloads": [{"name": f"w{i}", "role": "nsc"}]}
            for i in (1, 2, 3)
        ],
    }
    with nsmcert.Topology.build(spec) as topo:
        prefix = topo.namespace_prefix
        assert topo.spec.mtu == 1400 and topo.spec.underlay == "10.77.0.0/24"
        assert [n.name for n in topo.spec.nodes] == ["n1", "n2", "n3"]
        assert topo.netlink("fabric").link("br0")["mtu"] == 1400
        assert topo.ping("n3", "10.77.0.1")
    assert not harness_namespaces(prefix)


def test_topology_from_a_file_path_and_from_text():
    path = FIXTURES / "topologies" / "two-node.yaml"
    spec = nsmcert.load_spec(str(path))
    assert spec.source == str(path) and spec.name == "two-node"
    from_text = nsmcert.load_spec(path.read_text())
    assert [n.name for n in from_text.nodes] == [n.name for n in spec.nodes]


def test_a_failed_build_leaves_nothing():
    run_id = nsmcert._core.generate_run_id()
    # Valid as a model, but the run id is taken by a live run: the second build must fail cleanly.
    with nsmcert.Topology.build("two-node", run_id=run_id):
        with pytest.raises(nsmcert.AlreadyExistsError):
            nsmcert.Topology.build("two-node", run_id=run_id)
        assert len(harness_namespaces(f"nsmc-{run_id}-")) == 5
    assert not harness_namespaces(f"nsmc-{run_id}-")


def test_teardown_kills_processes_inside(supervisor):
    with nsmcert.Topology.build("two-node") as topo:
        process = supervisor.start("inside", ["sleep", "60"], netns=topo.node("node-b"))
        assert process.running
    deadline_ok = process.wait(10)
    assert deadline_ok.signaled


def test_workloads_wired_by_hand_reach_each_other(topology):
    ends = topology.connect("nsc-a", "nse-b", "10.9.0.1/24", "10.9.0.2/24")
    assert ends == {"nsc-a": "veth0", "nse-b": "veth0"}
    link = topology.netlink("nse-b").link("veth0")
    assert link["kind"] == "veth" and link["up"]
    assert topology.ping("nsc-a", "10.9.0.2", count=3)
    assert not topology.ping("nsc-a", "10.10.0.1", timeout=1)  # no route: fails at once


def test_netns_names_and_paths_are_accepted_everywhere(topology):
    ns = topology.namespace("nse-b")
    url_by_object = nsmcert._core.netns_inode_url(ns)
    assert url_by_object == nsmcert._core.netns_inode_url(ns.path)
    assert url_by_object == nsmcert._core.netns_inode_url(ns.name)
    assert url_by_object.startswith("inode://") and url_by_object.endswith(f"/{ns.inode}")
    with pytest.raises(nsmcert.NotFoundError):
        nsmcert.Netlink.open("nsmc-no-such-namespace")
