"""The reference domain through the package: daemons under the supervisor in node namespaces,
monitor streams, and connections with packet checks. Parts that need a daemon that is not built
yet skip and name it."""

from __future__ import annotations

import time

import pytest

import nsmcert
from nsmcert import binaries
from nsmcert.monitor import connections_of
from conftest import require_binary

NSMGR_SERVICES = ["networkservice.NetworkService", "connection.MonitorConnection"]


def test_monitor_stream_of_an_nsmgr(supervisor, short_dir, registry_binary):
    nsmgr_binary = require_binary(binaries.NSMGR)
    registry_url = f"unix://{short_dir}/registry.sock"
    nsmgr_url = f"unix://{short_dir}/nsmgr.sock"
    supervisor.start("registry", [registry_binary], env={"NSM_LISTEN_ON": registry_url})
    nsmgr = supervisor.start(
        "nsmgr",
        [nsmgr_binary],
        env={
            "NSM_LISTEN_ON": nsmgr_url,
            "NSM_REGISTRY_URL": registry_url,
            "NSM_EXCLUDED_PREFIXES_PATH": str(short_dir / "excluded.yaml"),
        },
    )
    nsmgr.wait_healthy(nsmgr_url, NSMGR_SERVICES, timeout=20)
    with nsmcert.Monitor(nsmgr_url, network_services=["icmp-responder"]) as monitor:
        first = monitor.next(timeout=10)
        assert first is not None, "no initial state transfer"
        assert first["type"] == "INITIAL_STATE_TRANSFER"
        assert connections_of(first) == []
        assert monitor.next(timeout=0.2) is None  # nothing happens without connections
        nsmgr.kill()
        with pytest.raises(nsmcert.NsmcertError):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                monitor.next(timeout=1)


def test_monitor_errors_name_the_url():
    with pytest.raises(nsmcert.InvalidArgumentError, match="ftp://x"):
        nsmcert.Monitor("ftp://x")
    with pytest.raises(nsmcert.UnavailableError, match="nowhere.sock"):
        nsmcert.Monitor("unix:///nonexistent/nowhere.sock", timeout=0.5)


@pytest.mark.privileged
def test_reference_domain_daemons_in_node_namespaces(topology, nsmcert_supervisor):
    for name in (binaries.REGISTRY, binaries.NSMGR, binaries.FORWARDER):
        require_binary(name)
    with nsmcert.ReferenceDomain(topology, supervisor=nsmcert_supervisor) as domain:
        names = set(domain.processes())
        assert names == {"registry", "nsmgr-node-a", "nsmgr-node-b", "forwarder-node-a",
                         "forwarder-node-b"}
        assert domain.registry_url.startswith("tcp://10.100.0.1:")
        assert domain.nsmgr_public_url("node-b").startswith("tcp://10.100.0.2:")
        for node in ("node-a", "node-b"):
            assert nsmcert.check_health(domain.nsmgr_url(node)) == "SERVING"
            assert nsmcert.check_health(domain.forwarder_url(node)) == "SERVING"
        # The registry's TCP address is reachable from the other node, over the fabric.
        assert nsmcert.check_health(domain.registry_url, netns=topology.node("node-b")) == "SERVING"
        assert set(domain.log_paths()) == names
        processes = domain.processes()
    assert not any(p.running for p in processes.values())


@pytest.fixture
def connected(topology, reference_domain):
    require_binary(binaries.NSE)
    require_binary(binaries.NSC)
    reference_domain.nse("nse-b", services=["icmp-responder"])
    [conn] = reference_domain.nsc("nsc-a", ["kernel://icmp-responder/nsm-1"]).request()
    return conn


@pytest.mark.privileged
def test_remote_connection_carries_packets(topology, connected, capture):
    conn = connected
    assert conn.network_service == "icmp-responder"
    assert conn.interface == "nsm-1" and conn.src_ip and conn.dst_ip
    links = {link["name"] for link in topology.netlink("nsc-a").links()}
    assert "nsm-1" in links
    client = capture("nsc-a", "nsm-1", filter="icmp")
    underlay = capture("node-b", "ul0", filter="udp port 4789")
    client.flush()
    underlay.flush()
    assert topology.ping("nsc-a", conn.dst_ip, count=2)
    client.expect_packets({"ip.src": conn.src_ip, "ip.dst": conn.dst_ip, "icmp.type": 8}, 2)
    client.expect_packets({"ip.src": conn.dst_ip, "icmp.type": 0}, 2)
    underlay.expect_packets({"inner.ip.dst": conn.dst_ip, "inner.icmp.type": 8}, 2)


@pytest.mark.privileged
def test_heal_after_killing_the_client_forwarder(topology, reference_domain):
    require_binary(binaries.NSE)
    require_binary(binaries.NSC)
    reference_domain.nse("nse-b", services=["icmp-responder"])
    client = reference_domain.nsc("nsc-a", ["kernel://icmp-responder/nsm-1"]).start()
    [conn] = client.wait_connections(timeout=30)
    assert topology.ping("nsc-a", conn.dst_ip)
    forwarder = reference_domain.forwarder("node-a")
    forwarder.kill()
    forwarder.restart()
    deadline = time.monotonic() + 30
    while not topology.ping("nsc-a", conn.dst_ip) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert topology.ping("nsc-a", conn.dst_ip), forwarder.log_tail(30)
    client.close()
