"""Packets through the bindings: building, decoding, templates, expectations over recorded and
live traffic, pcap files and raw senders."""

from __future__ import annotations

import pytest

import nsmcert
from conftest import FIXTURES

ECHO_REQUEST = {"ip.src": "10.9.0.1", "ip.dst": "10.9.0.2", "icmp.type": 8}
ECHO_REPLY = {"ip.src": "10.9.0.2", "ip.dst": "10.9.0.1", "icmp.type": 0}


def echo_frame(seq=1, dst="10.0.0.2", ttl=64):
    return (
        nsmcert.PacketBuilder()
        .ethernet(dst="02:00:00:00:00:02", src="02:00:00:00:00:01")
        .ipv4(src="10.0.0.1", dst=dst, ttl=ttl)
        .icmp(type=8, ident=7, seq=seq)
        .payload(b"nsmcert")
        .build()
    )


# ---- offline: no root, no waiting ----
def test_build_and_decode():
    frame = echo_frame()
    decoded = nsmcert.decode(frame)
    assert decoded.complete, decoded.errors
    assert decoded.layers == ["eth", "ip", "icmp", "data"]
    assert decoded["ip.dst"] == "10.0.0.2"
    assert decoded["icmp.seq"] == 1 and decoded["ip.ttl"] == 64
    assert decoded["eth.src"] == "02:00:00:00:00:01"
    assert decoded["data.data"] == b"nsmcert"
    assert "ip.ttl" in decoded and "udp.srcport" not in decoded
    assert decoded.get("udp.srcport", "absent") == "absent"
    assert decoded.text("ip.checksum").startswith("0x")
    assert "icmp 8/0" in decoded.summary


def test_vxlan_nests_the_inner_frame():
    inner = nsmcert.PacketBuilder().ethernet(dst="02:00:00:00:00:0b", src="02:00:00:00:00:0a")
    frame = (
        inner.ipv4(src="10.100.0.1", dst="10.100.0.2").udp(src_port=40000).vxlan(vni=4242)
        .ethernet(dst="02:00:00:00:00:02", src="02:00:00:00:00:01")
        .ipv4(src="172.16.0.1", dst="172.16.0.2").icmp(type=8, seq=9)
        .build()
    )
    decoded = nsmcert.decode(frame)
    assert decoded["udp.dstport"] == 4789 and decoded["vxlan.vni"] == 4242
    assert decoded["inner.ip.dst"] == "172.16.0.2" and decoded["inner.icmp.seq"] == 9


def test_templates_match_and_explain_mismatches():
    packet = nsmcert.decode(echo_frame(ttl=63))
    tmpl = nsmcert.template({"ip.dst": "10.0.0.2", "icmp.type": 8, "icmp.seq": None})
    assert tmpl.matches(packet)
    tmpl.field("ip.ttl", 64)
    assert not tmpl.matches(packet)
    assert tmpl.diff(packet) == [("ip.ttl", "64", "63")]
    assert str(tmpl) == "{ip.dst == 10.0.0.2, icmp.type == 8, has(icmp.seq), ip.ttl == 64}"
    # From a crafted frame, masking what varies.
    same = nsmcert.PacketTemplate.from_frame(echo_frame()).dont_care("ip.ttl").dont_care("ip.checksum")
    assert same.matches(packet)
    assert nsmcert.PacketTemplate().lacks("vxlan.vni").matches(packet)


def test_expectations_over_a_replay():
    packets = [nsmcert.Packet(echo_frame(seq=s), timestamp=100.0 + s) for s in (1, 2, 3)]
    verify = nsmcert.replay(packets)
    verify.expect_packet(nsmcert.template({"icmp.seq": 2}), 5.0)
    nsmcert.expect_packet(verify, {"icmp.seq": 1})
    with pytest.raises(nsmcert.PacketExpectationError) as raised:
        nsmcert.expect_packet(verify, {"icmp.seq": 9}, timeout=1.0)
    message = str(raised.value)
    assert "icmp.seq == 9" in message and "closest" in message and "icmp.seq: want 9, got 3" in message
    assert isinstance(raised.value, AssertionError)
    with pytest.raises(nsmcert.PacketExpectationError, match="seq 3"):
        nsmcert.expect_no_other_packets(verify)  # seq 3 is still unclaimed
    nsmcert.expect_no_packet(verify, {"icmp.seq": 7})


def test_pcap_files_round_trip(tmp_path):
    packets = [nsmcert.Packet(echo_frame(seq=s), timestamp=1700000000.5 + s) for s in (1, 2)]
    path = tmp_path / "two.pcap"
    nsmcert.write_pcap(str(path), nsmcert._core.LINKTYPE_ETHERNET, packets)
    read = nsmcert.read_pcap(str(path))
    assert read.link_type == 1
    assert [p.data for p in read.packets] == [p.data for p in packets]
    assert [round(p.timestamp, 6) for p in read.packets] == [1700000001.5, 1700000002.5]


def test_golden_capture_reads_and_verifies():
    path = FIXTURES / "pcap" / "ping-veth.pcap"
    capture = nsmcert.read_pcap(str(path))
    assert len(capture.packets) > 4
    verify = nsmcert.replay(str(path))
    nsmcert.expect_packets(verify, {"ip.src": "10.77.0.1", "ip.dst": "10.77.0.2", "icmp.type": 8}, 2)
    nsmcert.expect_packets(verify, {"ip.src": "10.77.0.2", "icmp.type": 0}, 2)
    verify.ignore(nsmcert.template({"arp.opcode": None}))
    verify.ignore(nsmcert.template({"ipv6.version": None}))
    nsmcert.expect_no_other_packets(verify)


# ---- live: a real ping between two workloads wired with the netlink bindings ----
@pytest.fixture
def wired(topology):
    topology.connect("nsc-a", "nse-b", "10.9.0.1/24", "10.9.0.2/24")
    return topology


def test_capture_a_real_ping(wired, tmp_path):
    path = tmp_path / "ping.pcap"
    with nsmcert.Capture(wired.workload("nse-b"), "veth0", filter="icmp", pcap_path=path) as cap:
        cap.flush()
        assert wired.ping("nsc-a", "10.9.0.2", count=2)
        cap.expect_packets(ECHO_REQUEST, 2)
        cap.expect_packets(ECHO_REPLY, 2)
        nsmcert.expect_no_packet(cap, {"ip.dst": "10.9.0.99"})
        nsmcert.expect_no_other_packets(cap)
        with pytest.raises(nsmcert.PacketExpectationError, match="within"):
            cap.expect_packet({"ip.dst": "10.9.0.99"}, timeout=0.2)
        assert cap.stats["captured"] == 4
    written = nsmcert.read_pcap(str(path)).packets
    assert len(written) == 4
    assert all(p["icmp.type"] in (0, 8) for p in written)


def test_negative_checks_see_unexpected_traffic(wired):
    cap = nsmcert.Capture(wired.namespace("nse-b"), "veth0")
    try:
        cap.flush()
        assert wired.ping("nsc-a", "10.9.0.2")
        with pytest.raises(nsmcert.PacketExpectationError, match="icmp"):
            cap.expect_no_packet({"icmp.type": 8})
        cap.ignore({"arp.opcode": None})
        cap.ignore({"ipv6.version": None})
        cap.ignore({"icmp.type": 8})
        with pytest.raises(nsmcert.PacketExpectationError):
            cap.expect_no_other_packets()  # the reply is neither claimed nor ignored
    finally:
        cap.stop()


def test_crafted_frame_gets_an_answer_from_the_kernel(wired):
    peer_mac = wired.netlink("nse-b").link("veth0")["mac"]
    own_mac = wired.netlink("nsc-a").link("veth0")["mac"]
    # Teach nsc-a's sender side nothing: craft the frame with both MACs and send it raw.
    frame = (
        nsmcert.PacketBuilder()
        .ethernet(dst=peer_mac, src=own_mac)
        .ipv4(src="10.9.0.1", dst="10.9.0.2")
        .icmp(type=8, ident=4242, seq=1)
        .payload("crafted")
        .build()
    )
    with nsmcert.Capture(wired.workload("nsc-a"), "veth0", filter="icmp") as cap:
        cap.flush()
        nsmcert.FrameSender.open(wired.workload("nsc-a"), "veth0").send(frame)
        cap.expect_packet({"icmp.type": 0, "icmp.ident": 4242, "ip.src": "10.9.0.2"}, timeout=3)


def test_capture_errors_name_the_interface(wired):
    with pytest.raises(nsmcert.NotFoundError, match="nosuchif"):
        nsmcert.Capture(wired.workload("nse-b"), "nosuchif")
    with pytest.raises(nsmcert.InvalidArgumentError, match="this is not bpf"):
        nsmcert.Capture(wired.workload("nse-b"), "veth0", filter="this is not bpf")
