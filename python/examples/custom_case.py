#!/usr/bin/env python3
"""A conformance case written in Python, run against a manifest like the catalogue's cases.

The case checks something the catalogue may not: that an endpoint's advertised addresses are the
ones the client's interface really got. Its verdict, log and pcap land in the same results.json,
JUnit file, report and bundle as `nsmcert run` writes. Usage, as root from the repository root:

    .venv/bin/python python/examples/custom_case.py [MANIFEST] [OUT_DIR]

MANIFEST defaults to fixtures/manifests/reference.yaml; a vendor manifest swaps in the vendor's
registry, nsmgr or forwarder (started by the ReferenceDomain from the manifest's commands).
"""

import sys

import nsmcert


class ClientInterfaceCarriesItsAddress(nsmcert.Case):
    id = "PY-CONTEXT-001"
    title = "The client's kernel interface holds the source address of its IP context"
    level = "MUST"
    area = "context"
    spec = "§6, §14 D"
    timeout = 120

    def arrange(self, ctx):
        self.topo = nsmcert.Topology.build("two-node")
        self.domain = nsmcert.ReferenceDomain(self.topo, manifest=ctx.manifest,
                                              log_dir=ctx.case_dir).start()
        self.domain.nse("nse-b", services=["icmp-responder"])

    def act(self, ctx):
        [self.conn] = self.domain.nsc("nsc-a", ["kernel://icmp-responder/nsm-1"]).request()
        ctx.write_evidence("data", "connection.json", str(dict(self.conn)), "the NSC's reply")
        pcap = ctx.evidence_file("pcap", "client.pcap", "ping on the client's interface")
        with nsmcert.Capture(self.topo.workload("nsc-a"), self.conn.interface, filter="icmp",
                             pcap_path=pcap) as cap:
            cap.flush()
            self.answered = self.topo.ping("nsc-a", self.conn.dst_ip)
            cap.expect_packet({"ip.src": self.conn.src_ip, "icmp.type": 8})

    def verify(self, ctx):
        held = [a["cidr"] for a in self.topo.netlink("nsc-a").addresses(self.conn.interface)]
        ctx.log(f"{self.conn.interface} holds {held}")
        if not any(cidr.split("/")[0] == self.conn.src_ip for cidr in held):
            raise nsmcert.CaseFailed(
                f"{self.conn.interface}: expected {self.conn.src_ip}, observed {held}")
        assert self.answered, f"no answer from {self.conn.dst_ip}"

    def close(self):
        self.domain.stop()
        self.topo.teardown()


def main() -> int:
    manifest = sys.argv[1] if len(sys.argv) > 1 else "reference"
    out_dir = sys.argv[2] if len(sys.argv) > 2 else "out/custom-case"
    results = nsmcert.run_cases(manifest, out_dir, cases=[ClientInterfaceCarriesItsAddress],
                                console=True)
    for case in results:
        print(f"{case.id} {case.status}: {case.message or case.title}")
    print(f"results in {out_dir}/results.json (exit code {results.exit_code})")
    return results.exit_code


if __name__ == "__main__":
    sys.exit(main())
