#!/usr/bin/env python3
"""Two workloads, a cable between them, and proof on the wire.

No NSM daemons here: the two workloads of the two-node topology are wired directly with a veth
pair, a capture watches one end, and the expectations say what must (and must not) cross it. Run
as root from the repository root:

    .venv/bin/python python/examples/capture_ping.py
"""

import nsmcert


def main() -> None:
    with nsmcert.Topology.build("two-node") as topo:
        topo.connect("nsc-a", "nse-b", "10.9.0.1/24", "10.9.0.2/24")

        with nsmcert.Capture(topo.workload("nse-b"), "veth0", pcap_path="capture_ping.pcap") as cap:
            cap.flush()  # forget anything before the stimulus
            assert topo.ping("nsc-a", "10.9.0.2", count=3)

            cap.expect_packets({"ip.src": "10.9.0.1", "ip.dst": "10.9.0.2", "icmp.type": 8}, 3)
            cap.expect_packets({"ip.src": "10.9.0.2", "icmp.type": 0}, 3)
            cap.expect_no_packet({"ip.dst": "10.9.0.3"})  # nobody else is spoken to
            cap.ignore({"arp.opcode": None})  # background: address resolution,
            cap.ignore({"ipv6.version": None})  # neighbour discovery and MLD
            cap.expect_no_other_packets()

        for packet in cap.packets():
            print(packet.summary)
    print("ok: every expectation held; the packets are in capture_ping.pcap")


if __name__ == "__main__":
    main()
