"""Summary, Markdown and plot of the scenario benchmarks' results.

Input is the JSON document nsmcert-scenario-bench writes (schema "nsmcert-scenario/1", see
bench/scenario/README.md). bench/run calls markdown() and plot(); the data-path part of the
document is a "nsmcert-datapath/1" document and goes through bench/datapath/report.py.
Targets (from the project's issue) are shown next to the figures, never enforced.
"""

from __future__ import annotations

import statistics

SCHEMA = "nsmcert-scenario/1"
SETUP_P50_TARGET_MS = {"local": 5.0, "remote": 10.0}


def _fmt(value, digits: int = 2, suffix: str = "") -> str:
    return "–" if value is None else f"{value:.{digits}f}{suffix}"


def _check(doc: dict) -> None:
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"scenario results: schema {doc.get('schema')!r}, expected {SCHEMA!r}")


def summarize(doc: dict) -> dict:
    """The figures bench/run keeps next to the document: per setup round the p50 against its
    target and baseline, memory per connection per process, median heal time per role."""
    _check(doc)
    setup = []
    for r in doc.get("setup", []) if isinstance(doc.get("setup"), list) else []:
        req, base = r["request"], r["baseline_health_check"]
        target = SETUP_P50_TARGET_MS.get(r["shape"])
        setup.append({
            "shape": r["shape"], "concurrency": r["concurrency"], "connections": r["connections"],
            "p50_ms": req["p50_ms"], "p99_ms": req["p99_ms"], "per_second": req["per_second"],
            "failures": req["failures"], "baseline_p50_ms": base["p50_ms"],
            "ratio": (req["p50_ms"] / base["p50_ms"]) if base["p50_ms"] else None,
            "target_p50_ms": target,
            "meets_target": (req["p50_ms"] <= target) if target and req["count"] else None,
            "close_p50_ms": r["close"]["p50_ms"],
        })
    memory = []
    for m in doc.get("memory", []) if isinstance(doc.get("memory"), list) else []:
        for p in m["processes"]:
            memory.append({"shape": m["shape"], "process": p["process"],
                           "connections": p["connections"],
                           "kib_per_connection": p["bytes_per_connection"] / 1024.0,
                           "before_mib": p["before_bytes"] / 2**20,
                           "after_mib": p["after_bytes"] / 2**20,
                           "after_close_mib": p.get("after_close_bytes", 0) / 2**20})
    heal = []
    for h in doc.get("heal", []) if isinstance(doc.get("heal"), list) else []:
        outcomes = [r["outcome"] for r in h["repetitions"] if "outcome" in r]
        outages = [o["longest_outage_ms"] for o in outcomes if o["outage"]]
        heal.append({
            "role": h["role"], "repetitions": len(h["repetitions"]), "healed": h["healed"],
            "median_healed_ms": h["median_healed_ms"],
            "median_rerequest_ms": _median([o["rerequest_ms"] for o in outcomes
                                            if o["rerequest_ms"] is not None]),
            "outages": len(outages), "median_outage_ms": _median(outages),
            "errors": [r.get("error") or r.get("restart_error") for r in h["repetitions"]
                       if r.get("error") or r.get("restart_error")],
        })
    return {"setup": setup, "memory": memory, "heal": heal}


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median_low(values) if values else None


def markdown(doc: dict, summary: dict, plot_file: str | None) -> str:
    out = ["## Scenarios (reference domain, two nodes)\n"]
    if "domain_start_ms" in doc:
        out.append(f"Domain started in {doc['domain_start_ms']:.0f} ms.\n")
    for part in ("setup", "memory", "heal"):
        if isinstance(doc.get(part), dict) and "error" in doc[part]:
            out.append(f"- {part}: could not run: {doc[part]['error']}")
    if summary["setup"]:
        out.append("### Connection setup (in-process client, Request round trip)\n")
        out.append("| shape | concurrency | connections | p50 ms | p99 ms | conn/s | failures | "
                   "health check p50 ms | ratio | target p50 | met | Close p50 ms |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
        for s in summary["setup"]:
            met = "–" if s["meets_target"] is None else ("yes" if s["meets_target"] else "**no**")
            out.append(f"| {s['shape']} | {s['concurrency']} | {s['connections']} | "
                       f"{_fmt(s['p50_ms'])} | {_fmt(s['p99_ms'])} | {_fmt(s['per_second'], 0)} | "
                       f"{s['failures']} | {_fmt(s['baseline_p50_ms'], 3)} | "
                       f"{_fmt(s['ratio'], 0, 'x')} | {_fmt(s['target_p50_ms'], 0)} | {met} | "
                       f"{_fmt(s['close_p50_ms'])} |")
        out.append("")
    if summary["memory"]:
        out.append("### Memory per connection (RSS)\n")
        out.append("| shape | process | connections | before MiB | with connections MiB | "
                   "after close MiB | KiB per connection |")
        out.append("|---|---|---:|---:|---:|---:|---:|")
        for m in summary["memory"]:
            out.append(f"| {m['shape']} | {m['process']} | {m['connections']} | "
                       f"{_fmt(m['before_mib'], 1)} | {_fmt(m['after_mib'], 1)} | "
                       f"{_fmt(m['after_close_mib'], 1)} | {_fmt(m['kib_per_connection'], 1)} |")
        out.append("")
    if summary["heal"]:
        out.append("### Heal time (remote connection; role SIGKILLed and restarted at once)\n")
        out.append("| role killed | repetitions | healed | median heal ms | median re-request ms "
                   "| with a ping outage | median outage ms |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for h in summary["heal"]:
            out.append(f"| {h['role']} | {h['repetitions']} | {h['healed']} | "
                       f"{_fmt(h['median_healed_ms'], 0)} | {_fmt(h['median_rerequest_ms'], 0)} | "
                       f"{h['outages']} | {_fmt(h['median_outage_ms'], 0)} |")
        out.append("")
    if plot_file:
        out.append(f"![scenarios]({plot_file})\n")
    for e in doc.get("errors", []):
        out.append(f"- error ({e.get('what')}): {e.get('message')}")
    return "\n".join(out)


def plot(doc: dict, summary: dict, out_file: str) -> None:
    """Setup p50/p99 per concurrency and shape, and median heal time per role."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig, (ax_setup, ax_heal) = plt.subplots(1, 2, figsize=(11, 4))
    for shape, marker in (("local", "o"), ("remote", "s")):
        rows = [s for s in summary["setup"] if s["shape"] == shape]
        if not rows:
            continue
        xs = [r["concurrency"] for r in rows]
        ax_setup.plot(xs, [r["p50_ms"] for r in rows], marker=marker, label=f"{shape} p50")
        ax_setup.plot(xs, [r["p99_ms"] for r in rows], marker=marker, linestyle="--",
                      label=f"{shape} p99")
        target = SETUP_P50_TARGET_MS[shape]
        ax_setup.axhline(target, linewidth=0.8, color="grey", linestyle=":")
    ax_setup.set_xscale("log")
    ax_setup.set_yscale("log")
    ax_setup.set_xlabel("concurrent requests")
    ax_setup.set_ylabel("Request round trip (ms)")
    ax_setup.set_title("connection setup (dotted: p50 targets)")
    if summary["setup"]:
        ax_setup.legend(fontsize=8)
    roles = [h["role"] for h in summary["heal"]]
    values = [h["median_healed_ms"] or 0 for h in summary["heal"]]
    ax_heal.bar(range(len(roles)), values)
    ax_heal.set_xticks(range(len(roles)), roles, rotation=20, fontsize=8)
    ax_heal.set_ylabel("median heal time (ms)")
    ax_heal.set_title("kill to first ping through the healed path")
    fig.tight_layout()
    fig.savefig(out_file, dpi=110)
    plt.close(fig)
