#!/usr/bin/env python3
"""A local connection: client and endpoint on the same node, one forwarder cross-connecting them.

The topology is written in code: one node with two workloads. The reference registry, nsmgr and
forwarder start on it; an icmp-responder endpoint registers; the client asks for
kernel://icmp-responder/nsm-1 and gets a kernel interface in its namespace. Then the data path is
checked on the wire: the client's pings reach the endpoint's address, and only them. Run as root
from the repository root (after building the daemons):

    .venv/bin/python python/examples/local_connection.py
"""

import nsmcert

ONE_NODE = {
    "name": "one-node",
    "fabric": {"underlay": "10.100.0.0/24"},
    "nodes": [
        {
            "name": "node-a",
            "address": "10.100.0.1",
            "workloads": [{"name": "nsc-a", "role": "nsc"}, {"name": "nse-a", "role": "nse"}],
        }
    ],
}


def main() -> None:
    with nsmcert.Topology.build(ONE_NODE) as topo, nsmcert.ReferenceDomain(topo) as domain:
        domain.nse("nse-a", services=["icmp-responder"], cidr="172.16.1.0/24")
        [conn] = domain.nsc("nsc-a", ["kernel://icmp-responder/nsm-1"]).request()
        print(f"connection {conn.id}: {conn.interface} {conn.src_ip} -> {conn.dst_ip}, "
              f"path {' > '.join(conn.path)}")
        assert conn.interface == "nsm-1"

        with nsmcert.Capture(topo.workload("nsc-a"), conn.interface, filter="icmp") as cap:
            cap.flush()
            assert topo.ping("nsc-a", conn.dst_ip, count=2), "the endpoint does not answer"
            cap.expect_packets({"ip.src": conn.src_ip, "ip.dst": conn.dst_ip, "icmp.type": 8}, 2)
            cap.expect_packets({"ip.src": conn.dst_ip, "ip.dst": conn.src_ip, "icmp.type": 0}, 2)
            cap.expect_no_other_packets()
    print("ok: local connection carries the client's traffic to its endpoint")


if __name__ == "__main__":
    main()
