#!/usr/bin/env python3
"""Profiles connection setup on a reference domain: runs `nsmcert-scenario-bench --only=profile
--profile-pause` and, for each target's Requests and Closes, attaches one tool to the daemons:

  cpu      perf record -g -e cpu-clock on every daemon (pid list); prints the top symbols by
           self and by children time per process (perf report)
  syscalls strace -c -f on each daemon: time per system call (futex/epoll waits included)
  trace    strace -f -T -tt on one process (--process): every network and netlink call with its
           duration, for reading the off-CPU gaps of one request

Output goes to --out-dir (perf.data, reports, strace files) and a summary on stdout. Needs root,
perf and strace.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time


def start_tool(tool, pids, process, out_dir, tag):
    procs = []
    if tool == "cpu":
        data = os.path.join(out_dir, f"{tag}.perf.data")
        cmd = ["perf", "record", "-q", "-g", "-e", "cpu-clock", "-F", "4999", "-o", data,
               "-p", ",".join(str(p) for p in pids.values())]
        procs.append((subprocess.Popen(cmd, stderr=subprocess.DEVNULL), data))
    elif tool == "syscalls":
        for label, pid in pids.items():
            out = os.path.join(out_dir, f"{tag}.{label}.strace-c")
            cmd = ["strace", "-c", "-f", "-w", "-o", out, "-p", str(pid)]
            procs.append((subprocess.Popen(cmd, stderr=subprocess.DEVNULL), out))
    elif tool == "trace":
        out = os.path.join(out_dir, f"{tag}.{process}.strace")
        cmd = ["strace", "-f", "-T", "-tt", "-e", "trace=network,read,write,ioctl,clone,clone3",
               "-o", out, "-p", str(pids[process])]
        procs.append((subprocess.Popen(cmd, stderr=subprocess.DEVNULL), out))
    time.sleep(1.0)  # let the tool attach before the phase starts
    return procs


def stop_tool(procs):
    for proc, _ in procs:
        proc.send_signal(signal.SIGINT)
    for proc, _ in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def perf_top(data, pids, limit):
    lines = []
    for label, pid in pids.items():
        for mode in ("--no-children", "--children"):
            rep = subprocess.run(
                ["perf", "report", "-i", data, "--stdio", mode, "--pid", str(pid),
                 "--sort", "symbol", "-g", "none", "--percent-limit", "1.5"],
                capture_output=True, text=True)
            rows = [l for l in rep.stdout.splitlines() if l.strip() and not l.startswith("#")]
            lines.append(f"== {label} ({'self' if mode == '--no-children' else 'with children'})")
            lines.extend(rows[:limit])
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default="build/default/bench/scenario/nsmcert-scenario-bench")
    ap.add_argument("--targets", default="local/nsmgr,remote/nsmgr")
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--tool", choices=["cpu", "syscalls", "trace", "none"], default="cpu")
    ap.add_argument("--process", default="forwarder-a", help="for --tool=trace")
    ap.add_argument("--phases", default="requests,closes")
    ap.add_argument("--processes", default="",
                    help="comma-separated labels to attach to (default: every daemon)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--out-dir", default="profile-setup")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    phases = set(args.phases.split(","))
    wanted = set(p for p in args.processes.split(",") if p)
    cmd = [args.bench, "--only=profile", "--profile-pause", f"--profile-targets={args.targets}",
           f"--connections={args.connections}",
           f"--out={os.path.join(args.out_dir, 'profile.json')}"]
    bench = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             bufsize=1)
    running, running_tag, pids = [], None, {}
    reports = []
    for line in bench.stderr:
        sys.stderr.write(line)
        if not line.startswith("profile: "):
            continue
        phase, _, detail = line[len("profile: "):].partition(" ")
        info = json.loads(detail)
        if running:
            stop_tool(running)
            if args.tool == "cpu":
                reports.append(f"### {running_tag}\n" + perf_top(running[0][1], pids, args.top))
            running = []
        pids = {k: v for k, v in info["pids"].items() if k != "client" and (not wanted or k in wanted)}
        if phase in phases and args.tool != "none":
            running_tag = f"{info['target'].replace('/', '_')}.{phase}"
            running = start_tool(args.tool, pids, args.process, args.out_dir, running_tag)
        bench.stdin.write("\n")
        bench.stdin.flush()
    bench.wait()
    print("\n\n".join(reports))
    return bench.returncode


if __name__ == "__main__":
    sys.exit(main())
