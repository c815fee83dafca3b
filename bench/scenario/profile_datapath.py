#!/usr/bin/env python3
"""Where a data path's per-packet CPU time goes: runs one unthrottled UDP trial of
nsmcert-trafficgen over each path under `perf record -a -g` (software clock: virtual machines often
have no hardware counters) and splits the samples of the generator's threads and the kernel's
softirq threads into stages of the packet's way, in microseconds of CPU per packet sent.

  bench/scenario/profile_datapath.py --trafficgen=build/default/bench/datapath/nsmcert-trafficgen \\
      [--paths=plain-veth,veth-xconnect,plain-vxlan,vxlan-xconnect] [--seconds=5] [--frame=64]

Needs root (namespaces) and perf. Without perf it falls back to /proc/stat: the share of CPU time
spent in user, system and softirq context during each trial.

A sample is put in the stage of the innermost stack frame that names one (so time in the tc
classifier called from a veth receive counts as "tc ingress", not "receive"). Stages:
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Innermost match wins. Function names are the kernel's (6.x); prefixes match suffixed copies
# such as ".constprop.0" or ".isra.0".
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("tc ingress (classify + mirred)", ("tc_run", "tcf_classify", "__tcf_classify", "u32_classify",
                                        "tcf_action_exec", "tcf_mirred_act", "tcf_mirred_to_dev",
                                        "sch_handle_ingress")),
    ("vxlan encap/decap", ("vxlan_xmit", "vxlan_xmit_one", "vxlan_rcv", "vxlan_encap_bypass",
                           "udp_tunnel_xmit_skb", "iptunnel_xmit", "vxlan_udp_encap_recv",
                           "__udp_tunnel_xmit")),
    ("veth transmit", ("veth_xmit", "veth_forward_skb", "__dev_forward_skb", "__netif_rx",
                       "netif_rx", "enqueue_to_backlog")),
    ("receive stack (netif..udp queue)", ("__netif_receive_skb", "__netif_receive_skb_core",
                                          "__netif_receive_skb_one_core", "ip_rcv", "ip_rcv_finish",
                                          "ip_local_deliver", "ip_local_deliver_finish", "udp_rcv",
                                          "__udp4_lib_rcv", "udp_unicast_rcv_skb",
                                          "udp_queue_rcv_one_skb", "__udp_enqueue_schedule_skb",
                                          "sock_def_readable", "process_backlog", "net_rx_action",
                                          "__napi_poll", "ip_route_input_noref",
                                          "ip_route_input_slow", "fib_table_lookup")),
    ("send stack (udp/ip output)", ("udp_sendmsg", "ip_make_skb", "__ip_append_data",
                                    "udp_send_skb", "ip_send_skb", "ip_output",
                                    "ip_finish_output2", "__dev_queue_xmit", "dev_hard_start_xmit",
                                    "__sys_sendmmsg", "___sys_sendmsg", "sock_alloc_send_pskb",
                                    "ip_route_output_flow", "neigh_resolve_output")),
    ("receiver syscalls (recvmmsg, poll)", ("do_recvmmsg", "udp_recvmsg", "__x64_sys_recvmmsg",
                                            "do_sys_poll", "__x64_sys_poll", "skb_free_datagram",
                                            "consume_skb")),
    ("scheduler", ("schedule", "__schedule", "finish_task_switch", "__cond_resched")),
    ("page faults", ("exc_page_fault", "handle_mm_fault")),
]
OTHER_KERNEL = "other kernel"
USER = "user space (generator)"
WATCHED_COMMS = ("nsmcert-traffic", "ksoftirqd")

__doc__ += "".join(f"  {name}\n" for name, _ in STAGES) + f"  {OTHER_KERNEL}, {USER}\n"


def stage_of(frames: list[tuple[str, str]]) -> str:
    """frames: (symbol, dso) innermost first."""
    if not frames:
        return OTHER_KERNEL
    for symbol, _ in frames:
        base = symbol.split("+", 1)[0]
        for name, functions in STAGES:
            if any(base == f or base.startswith(f + ".") for f in functions):
                return name
    leaf_dso = frames[0][1]
    return OTHER_KERNEL if "kernel" in leaf_dso or leaf_dso.startswith("[") else USER


def parse_perf_script(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Samples of `perf script -F comm,tid,ip,sym,dso` output: (comm, frames innermost first)."""
    samples = []
    comm = None
    frames: list[tuple[str, str]] = []
    for line in text.splitlines() + [""]:
        if not line.strip():
            if comm is not None:
                samples.append((comm, frames))
            comm, frames = None, []
            continue
        if not line[0].isspace():
            if comm is not None:
                samples.append((comm, frames))
            # "comm tid" — the comm may hold spaces; the tid is the last field.
            comm, frames = line.rsplit(None, 1)[0].strip(), []
            continue
        parts = line.split(None, 1)
        if len(parts) < 2:
            continue
        rest = parts[1]
        dso = ""
        if rest.endswith(")") and " (" in rest:
            rest, dso = rest.rsplit(" (", 1)
            dso = dso[:-1]
        frames.append((rest.strip(), dso))
    return samples


def breakdown(samples, period_us: float, packets: int) -> dict[str, float]:
    """Microseconds of CPU per packet, by stage, over the watched threads' samples."""
    counts: dict[str, int] = {}
    for comm, frames in samples:
        if not comm.startswith(WATCHED_COMMS):
            continue
        stage = stage_of(frames)
        counts[stage] = counts.get(stage, 0) + 1
    if packets <= 0:
        return {}
    return {stage: n * period_us / packets for stage, n in counts.items()}


def proc_stat_busy() -> list[int]:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    return [int(x) for x in fields]


def run_path(args, path: str, workdir: Path) -> dict:
    out = workdir / f"{path}.json"
    gen = [args.trafficgen, f"--paths={path}", f"--frame-sizes={args.frame}", "--udp-repeats=1",
           "--pdr-loss=0", "--fractions=0.1", "--latency-ms=100", "--rtt-rate=0", "--tcp-seconds=0",
           "--max-trials=1", f"--trial-ms={int(args.seconds * 1000)}", "--realtime=0",
           f"--out={out}"]
    perf_data = workdir / f"{path}.perf"
    use_perf = shutil.which("perf") is not None and not args.no_perf
    before = proc_stat_busy()
    cmd = (["perf", "record", "-q", "-a", "-g", "-e", "cpu-clock", "-F", str(args.frequency),
            "-o", str(perf_data), "--"] if use_perf else []) + gen
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = proc_stat_busy()
    doc = json.loads(out.read_text())
    trial = doc["udp"][0]["ndr"]["trials"][0]
    result = {"path": path, "sent": trial["sent"], "sent_pps": trial["sent_pps"],
              "cpu_us_per_packet_total": None, "stages_us_per_packet": {}}
    delta = [a - b for a, b in zip(after, before)]
    total = sum(delta) or 1
    # user+nice, system, softirq+irq shares of the whole machine during the run
    result["proc_stat_share"] = {"user": (delta[0] + delta[1]) / total, "system": delta[2] / total,
                                 "softirq": (delta[5] + delta[6]) / total,
                                 "idle": (delta[3] + delta[4]) / total}
    if use_perf:
        script = subprocess.run(["perf", "script", "-i", str(perf_data), "-F",
                                 "comm,tid,ip,sym,dso"], check=True, capture_output=True,
                                text=True).stdout
        stages = breakdown(parse_perf_script(script), 1e6 / args.frequency, trial["sent"])
        result["stages_us_per_packet"] = dict(sorted(stages.items(), key=lambda kv: -kv[1]))
        result["cpu_us_per_packet_total"] = sum(stages.values())
    return result


def markdown(results: list[dict]) -> str:
    stages = [name for name, _ in STAGES] + [OTHER_KERNEL, USER]
    head = "| stage (µs CPU per packet) | " + " | ".join(r["path"] for r in results) + " |"
    lines = [head, "|---|" + "---:|" * len(results)]
    for stage in stages:
        lines.append(f"| {stage} | " + " | ".join(
            f"{r['stages_us_per_packet'].get(stage, 0):.3f}" for r in results) + " |")
    lines.append("| **total** | " + " | ".join(
        f"**{(r['cpu_us_per_packet_total'] or 0):.3f}**" for r in results) + " |")
    lines.append("| sent kpps (unthrottled) | " + " | ".join(
        f"{r['sent_pps'] / 1e3:.0f}" for r in results) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trafficgen", required=True)
    parser.add_argument("--paths", default="plain-veth,veth-xconnect,plain-vxlan,vxlan-xconnect")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--frame", type=int, default=64)
    parser.add_argument("--frequency", type=int, default=4000, help="perf samples per second")
    parser.add_argument("--no-perf", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces, perf -a)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="nsmcert-profile-") as tmp:
        results = [run_path(args, p, Path(tmp)) for p in args.paths.split(",")]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    print(markdown(results))
    for r in results:
        share = r["proc_stat_share"]
        print(f"{r['path']}: machine /proc/stat shares user {share['user']:.2f} system "
              f"{share['system']:.2f} softirq {share['softirq']:.2f} idle {share['idle']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
