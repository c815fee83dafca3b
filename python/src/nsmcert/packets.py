"""Packet captures and expectations that read like a sentence (after PTF's verify_packet,
verify_no_packet and verify_no_other_packets).

>>> with nsmcert.Capture(topo.workload("nse-b"), "veth0", filter="icmp") as cap:
...     cap.flush()                                   # forget what came before the stimulus
...     topo.ping("nsc-a", "10.0.0.2")
...     nsmcert.expect_packet(cap, {"ip.dst": "10.0.0.2", "icmp.type": 8})
...     nsmcert.expect_no_packet(cap, {"ip.dst": "10.0.0.9"})     # short negative timeout
...     cap.ignore({"arp.opcode": None})                          # None: any value (present)
...     nsmcert.expect_no_other_packets(cap)

Templates are :class:`PacketTemplate` objects or dicts mapping Wireshark field names to values;
a value of None means "present, any value". A failed expectation raises
:class:`PacketExpectationError`, an AssertionError showing the closest packets and the fields
that differ.
"""

from __future__ import annotations

import os
from typing import Any, List, Mapping, Optional, Sequence, Union

from . import _core

TemplateLike = Union[_core.PacketTemplate, Mapping[str, Any]]


def template(spec: Optional[TemplateLike] = None) -> _core.PacketTemplate:
    """A PacketTemplate from a template or a dict of field name -> value (None: "present, any
    value"). An empty or missing spec matches every packet."""
    if isinstance(spec, _core.PacketTemplate):
        return spec
    result = _core.PacketTemplate()
    for name, value in dict(spec or {}).items():
        if value is None:
            result.has(name)
        else:
            result.field(name, value)
    result.check()
    return result


class Capture:
    """A live capture on one interface inside a namespace, with a verifier over it.

    ``netns`` is a Namespace, Node or Workload of a topology, a namespace path or name, or None
    for the caller's namespace. With ``pcap_path`` every packet is also written to that file
    (the pytest plugin attaches it to a failing test's report).
    """

    def __init__(
        self,
        netns: Any,
        interface: str,
        *,
        filter: str = "",
        pcap_path: Optional[Union[str, "os.PathLike[str]"]] = None,
        negative_timeout: float = 0.3,
        vxlan_ports: Optional[Sequence[int]] = None,
    ):
        self._capture = _core.Capture.start(
            netns, interface, filter=filter, pcap_path=os.fspath(pcap_path) if pcap_path else ""
        )
        self.verifier = _core.Verifier(
            self._capture,
            negative_timeout=negative_timeout,
            vxlan_ports=list(vxlan_ports) if vxlan_ports is not None else None,
        )

    # -- lifetime --
    def stop(self) -> None:
        """Stops capturing; raises the first error the capture met. Idempotent."""
        self._capture.stop()

    def __enter__(self) -> "Capture":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- what was seen --
    @property
    def core(self) -> _core.Capture:
        return self._capture

    @property
    def interface(self) -> str:
        return self._capture.interface

    @property
    def pcap_path(self) -> str:
        return self._capture.pcap_path

    @property
    def running(self) -> bool:
        return self._capture.running

    @property
    def stats(self) -> dict:
        return self._capture.stats

    def packets(self) -> List[_core.Packet]:
        """Every packet captured so far (whatever expectations claimed)."""
        return self._capture.packets()

    # -- expectations --
    def flush(self) -> None:
        """Forgets every packet seen so far: call right before the stimulus."""
        self.verifier.flush()

    def expect_packet(self, expected: TemplateLike, timeout: float = 2.0) -> None:
        self.verifier.expect_packet(template(expected), timeout)

    def expect_packets(self, expected: TemplateLike, count: int, timeout: float = 2.0) -> None:
        self.verifier.expect_packets(template(expected), count, timeout)

    def expect_no_packet(self, unwanted: TemplateLike, timeout: Optional[float] = None) -> None:
        self.verifier.expect_no_packet(template(unwanted), timeout)

    def expect_no_other_packets(self, timeout: Optional[float] = None) -> None:
        self.verifier.expect_no_other_packets(timeout)

    def ignore(self, background: TemplateLike) -> None:
        """Background traffic expect_no_other_packets overlooks (ARP, neighbour discovery)."""
        self.verifier.ignore(template(background))

    def __repr__(self) -> str:
        return f"<Capture {self.interface} running={self.running}>"


def _verifier(source: Any) -> _core.Verifier:
    if isinstance(source, Capture):
        return source.verifier
    if isinstance(source, _core.Verifier):
        return source
    raise TypeError(f"expected a Capture or a Verifier, got {type(source).__name__}")


def expect_packet(source: Any, expected: TemplateLike, timeout: float = 2.0) -> None:
    """A packet matching ``expected`` arrives (or arrived unclaimed) within ``timeout``."""
    _verifier(source).expect_packet(template(expected), timeout)


def expect_packets(source: Any, expected: TemplateLike, count: int, timeout: float = 2.0) -> None:
    """``count`` packets matching ``expected`` arrive within ``timeout`` in total."""
    _verifier(source).expect_packets(template(expected), count, timeout)


def expect_no_packet(source: Any, unwanted: TemplateLike, timeout: Optional[float] = None) -> None:
    """No packet matching ``unwanted``, unclaimed or arriving within the negative timeout."""
    _verifier(source).expect_no_packet(template(unwanted), timeout)


def expect_no_other_packets(source: Any, timeout: Optional[float] = None) -> None:
    """No unclaimed packet besides the ignored background traffic."""
    _verifier(source).expect_no_other_packets(timeout)


def replay(path_or_packets: Any, *, negative_timeout: float = 0.3) -> _core.Verifier:
    """A verifier over a pcap file (or a list of Packets) on a virtual clock: the same
    expectations as on a live capture, with timeouts that cost nothing."""
    if isinstance(path_or_packets, (str, os.PathLike)):
        packets = _core.read_pcap(os.fspath(path_or_packets)).packets
    else:
        packets = list(path_or_packets)
    source = _core.ReplaySource(packets)
    return _core.Verifier(source, negative_timeout=negative_timeout)
