#!/usr/bin/env python3
"""A remote connection: the client on node-a, the endpoint on node-b, VXLAN in between.

The two-node fixture (fixtures/topologies/two-node.yaml) puts the client's workload on node-a and
the endpoint's on node-b, so the forwarders join them over a VXLAN tunnel on the underlay. The
check looks at both places: the client's interface carries plain ICMP, and node-b's underlay
carries the same echo requests wrapped in VXLAN (UDP 4789) between the nodes' addresses. Run as
root from the repository root (after building the daemons):

    .venv/bin/python python/examples/remote_connection.py
"""

import nsmcert


def main() -> None:
    with nsmcert.Topology.build("two-node") as topo, nsmcert.ReferenceDomain(topo) as domain:
        domain.nse("nse-b", services=["icmp-responder"])
        [conn] = domain.nsc("nsc-a", ["kernel://icmp-responder/nsm-1"]).request()
        print(f"connection {conn.id}: path {' > '.join(conn.path)}")

        client_side = nsmcert.Capture(topo.workload("nsc-a"), conn.interface, filter="icmp")
        underlay = nsmcert.Capture(topo.node("node-b"), "ul0", filter="udp port 4789")
        with client_side, underlay:
            client_side.flush()
            underlay.flush()
            assert topo.ping("nsc-a", conn.dst_ip, count=2)

            client_side.expect_packets({"ip.dst": conn.dst_ip, "icmp.type": 8}, 2)
            underlay.expect_packets(
                {
                    "ip.src": topo.node("node-a").address,
                    "ip.dst": topo.node("node-b").address,
                    "udp.dstport": 4789,
                    "vxlan.vni": None,  # any VNI, but a VXLAN header
                    "inner.ip.dst": conn.dst_ip,
                    "inner.icmp.type": 8,
                },
                2,
            )
            # Nothing but the tunnel crosses the underlay for this connection.
            underlay.ignore({"inner.arp.opcode": None})
            underlay.ignore({"inner.ipv6.version": None})
            underlay.ignore({"inner.icmp.type": 0})
            underlay.expect_no_other_packets()
    print("ok: the remote connection is tunnelled over VXLAN between the nodes")


if __name__ == "__main__":
    main()
