#!/usr/bin/env python3
"""Heal: kill the client's forwarder, start it again, and watch the connection come back.

The client runs as a daemon here (not --oneshot), so it keeps its connection: refreshes it, and
heals it when a hop breaks. The nsmgr's monitor stream shows the connection going DOWN when the
forwarder dies and UP again once the restarted forwarder has re-programmed the data path; the ping
proves the data path, not just the control plane. Run as root from the repository root (after
building the daemons):

    .venv/bin/python python/examples/heal_after_forwarder_kill.py
"""

import time

import nsmcert
from nsmcert.monitor import connections_of


def state_of(connection_id: str, wanted: str):
    def matches(event):
        return any(
            c["id"] == connection_id and c.get("state") == wanted for c in connections_of(event)
        )

    return matches


def main() -> None:
    with nsmcert.Topology.build("two-node") as topo, nsmcert.ReferenceDomain(topo) as domain:
        domain.nse("nse-b", services=["icmp-responder"])
        client = domain.nsc("nsc-a", ["kernel://icmp-responder/nsm-1"]).start()
        [conn] = client.wait_connections(timeout=30)
        assert topo.ping("nsc-a", conn.dst_ip)
        print(f"connected: {conn.id} {conn.src_ip} -> {conn.dst_ip}")

        with domain.monitor("node-a", path_segments=[{"id": conn.id}]) as monitor:
            forwarder = domain.forwarder("node-a")
            started = time.monotonic()
            forwarder.kill()
            print("forwarder-node-a killed")
            monitor.wait_for(state_of(conn.id, "DOWN"), timeout=15)
            forwarder.restart()
            forwarder.wait_healthy(domain.forwarder_url("node-a"),
                                   ["networkservice.NetworkService"], timeout=20)
            monitor.wait_for(state_of(conn.id, "UP"), timeout=30)
            healed = time.monotonic() - started

        deadline = time.monotonic() + 10
        while not topo.ping("nsc-a", conn.dst_ip) and time.monotonic() < deadline:
            pass
        assert topo.ping("nsc-a", conn.dst_ip), "the data path did not come back"
        print(f"ok: healed in {healed:.1f}s; traffic flows again")


if __name__ == "__main__":
    main()
