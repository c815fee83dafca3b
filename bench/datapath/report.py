"""Summary, Markdown and plot of a data-path benchmark run.

Input is the JSON document nsmcert-trafficgen writes (schema "nsmcert-datapath/1", see
README.md). Every path that names a baseline is compared with that baseline from the same run:
throughput as a ratio, latency as the difference of medians. The targets are reported, never
enforced: a benchmark run fails only when a tool breaks, not when a figure is slow.

Only the standard library is needed, except plot(), which imports matplotlib when called.
"""

from __future__ import annotations

import statistics
from typing import Any

SCHEMA = "nsmcert-datapath/1"
# Targets to report against (issue text): forwarder throughput at least this fraction of the
# raw kernel path, and no more than this much added one-way latency at the median.
THROUGHPUT_RATIO_TARGET = 0.95
ADDED_LATENCY_TARGET_US = 5.0
# The latency figure the added-latency target is checked on: one-way at this fraction of NDR.
HEADLINE_FRACTION = 0.1


def _ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or baseline is None or baseline <= 0:
        return None
    return value / baseline


def _us(ns: float | None) -> float | None:
    return None if ns is None else ns / 1000.0


def _latency_at(entry: dict, fraction: float) -> dict | None:
    for item in entry.get("latency", []):
        if abs(item["fraction"] - fraction) < 1e-9:
            return item["trial"]["latency"]
    return None


def _index(rows: list[dict], *keys: str) -> dict[tuple, dict]:
    return {tuple(row[k] for k in keys): row for row in rows}


def summarize(doc: dict) -> dict:
    """Comparisons of each path with its baseline, and per-path absolute figures."""
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"data-path results: schema {doc.get('schema')!r}, expected {SCHEMA!r}")
    udp = _index(doc.get("udp", []), "path", "frame_size")
    rtt = _index(doc.get("rtt", []), "path", "frame_size")
    tcp: dict[str, list[float]] = {}
    for row in doc.get("tcp", []):
        tcp.setdefault(row["path"], []).append(row["received_bps"])
    tcp_mean = {path: statistics.fmean(values) for path, values in tcp.items()}
    frames = doc.get("config", {}).get("frame_sizes", [])

    comparisons = []
    for path in doc.get("paths", []):
        base = path.get("baseline")
        if not base:
            continue
        name = path["name"]
        comparison: dict[str, Any] = {"path": name, "baseline": base, "udp": [], "tcp": None}
        for frame in frames:
            mine, theirs = udp.get((name, frame)), udp.get((base, frame))
            if mine is None or theirs is None:
                continue
            row: dict[str, Any] = {"frame_size": frame}
            for kind in ("ndr", "pdr"):
                a, b = mine.get(kind), theirs.get(kind)
                row[f"{kind}_pps"] = a["rate_pps"] if a else None
                row[f"baseline_{kind}_pps"] = b["rate_pps"] if b else None
                row[f"{kind}_ratio"] = _ratio(row[f"{kind}_pps"], row[f"baseline_{kind}_pps"])
                row[f"{kind}_sender_limited"] = bool(a and a.get("limited_by_sender"))
                row[f"baseline_{kind}_sender_limited"] = bool(b and b.get("limited_by_sender"))
            lat, base_lat = _latency_at(mine, HEADLINE_FRACTION), _latency_at(theirs,
                                                                            HEADLINE_FRACTION)
            row["oneway_p50_us"] = _us(lat["p50_ns"]) if lat else None
            row["oneway_p999_us"] = _us(lat["p999_ns"]) if lat else None
            row["baseline_oneway_p50_us"] = _us(base_lat["p50_ns"]) if base_lat else None
            row["added_oneway_p50_us"] = (row["oneway_p50_us"] - row["baseline_oneway_p50_us"]
                                          if lat and base_lat else None)
            mine_rtt, their_rtt = rtt.get((name, frame)), rtt.get((base, frame))
            if mine_rtt and their_rtt:
                row["rtt_p50_us"] = _us(mine_rtt["trial"]["latency"]["p50_ns"])
                row["baseline_rtt_p50_us"] = _us(their_rtt["trial"]["latency"]["p50_ns"])
                row["added_rtt_p50_us"] = row["rtt_p50_us"] - row["baseline_rtt_p50_us"]
            else:
                row["rtt_p50_us"] = row["baseline_rtt_p50_us"] = row["added_rtt_p50_us"] = None
            row["meets_throughput_target"] = (None if row["ndr_ratio"] is None else
                                              row["ndr_ratio"] >= THROUGHPUT_RATIO_TARGET)
            row["meets_latency_target"] = (None if row["added_oneway_p50_us"] is None else
                                           row["added_oneway_p50_us"] <= ADDED_LATENCY_TARGET_US)
            comparison["udp"].append(row)
        if name in tcp_mean and base in tcp_mean:
            ratio = _ratio(tcp_mean[name], tcp_mean[base])
            comparison["tcp"] = {
                "gbps": tcp_mean[name] / 1e9,
                "baseline_gbps": tcp_mean[base] / 1e9,
                "ratio": ratio,
                "runs": len(tcp[name]),
                "meets_throughput_target": None if ratio is None else
                ratio >= THROUGHPUT_RATIO_TARGET,
            }
        comparisons.append(comparison)
    return {
        "targets": {
            "throughput_ratio_min": THROUGHPUT_RATIO_TARGET,
            "added_oneway_p50_us_max": ADDED_LATENCY_TARGET_US,
            "latency_fraction_of_ndr": HEADLINE_FRACTION,
        },
        "comparisons": comparisons,
        "tcp_gbps": {path: value / 1e9 for path, value in tcp_mean.items()},
        "errors": doc.get("errors", []),
    }


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "–" if value is None else f"{value:.{digits}f}{suffix}"


def _yes_no(flag: bool | None) -> str:
    return "–" if flag is None else ("yes" if flag else "**no**")


def markdown(doc: dict, summary: dict, plot_file: str | None) -> str:
    """The data-path section of the run's Markdown summary."""
    out = []
    targets = summary["targets"]
    out.append("## Data path\n")
    out.append(
        f"Targets (reported, not enforced): throughput ≥ {targets['throughput_ratio_min']:.2f}"
        f" of the raw kernel path of the same shape; added one-way latency ≤ "
        f"{targets['added_oneway_p50_us_max']:g} µs at the median, measured at "
        f"{targets['latency_fraction_of_ndr']:.0%} of each path's zero-loss rate. "
        "NDR = highest rate with zero loss (RFC 2544 binary search), PDR = with ≤ "
        f"{doc['config'].get('pdr_loss', 0):.1%} loss. `*` = sender-limited: the generator, "
        "whose own system calls carry each packet through the path, found no loss at its top "
        "speed, so the rate is a lower bound.\n")
    for comparison in summary["comparisons"]:
        out.append(f"### {comparison['path']} vs {comparison['baseline']}\n")
        if comparison["udp"]:
            out.append("| frame | NDR Mpps | baseline | ratio | PDR ratio | one-way p50 µs "
                       "(p99.9) | baseline p50 | added p50 | RTT p50 µs | added RTT | targets |")
            out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            for row in comparison["udp"]:
                ndr = _fmt(row["ndr_pps"] and row["ndr_pps"] / 1e6, 3)
                ndr += "*" if row["ndr_sender_limited"] else ""
                base = _fmt(row["baseline_ndr_pps"] and row["baseline_ndr_pps"] / 1e6, 3)
                base += "*" if row["baseline_ndr_sender_limited"] else ""
                targets_met = (f"tput {_yes_no(row['meets_throughput_target'])}, "
                               f"lat {_yes_no(row['meets_latency_target'])}")
                out.append(
                    f"| {row['frame_size']} | {ndr} | {base} | {_fmt(row['ndr_ratio'])}"
                    f" | {_fmt(row['pdr_ratio'])} | {_fmt(row['oneway_p50_us'], 1)} "
                    f"({_fmt(row['oneway_p999_us'], 1)}) | "
                    f"{_fmt(row['baseline_oneway_p50_us'], 1)} | "
                    f"{_fmt(row['added_oneway_p50_us'], 1)} | {_fmt(row['rtt_p50_us'], 1)} | "
                    f"{_fmt(row['added_rtt_p50_us'], 1)} | {targets_met} |")
            out.append("")
        tcp = comparison["tcp"]
        if tcp:
            out.append(
                f"TCP bulk (iperf3, mean of {tcp['runs']}): {tcp['gbps']:.2f} Gbit/s vs "
                f"{tcp['baseline_gbps']:.2f} Gbit/s = **{_fmt(tcp['ratio'])}** "
                f"(target met: {_yes_no(tcp['meets_throughput_target'])}).\n")

    out.append("### Every path\n")
    out.append("| path | frame | NDR Mpps | PDR Mpps | one-way p50 / p99 / p99.9 µs at "
               f"{HEADLINE_FRACTION:.0%} NDR | RTT p50 / p99.9 µs | TCP Gbit/s |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    rtt = _index(doc.get("rtt", []), "path", "frame_size")
    for entry in doc.get("udp", []):
        ndr, pdr = entry.get("ndr"), entry.get("pdr")
        lat = _latency_at(entry, HEADLINE_FRACTION)
        r = rtt.get((entry["path"], entry["frame_size"]))
        rl = r["trial"]["latency"] if r else None
        star = "*" if ndr and ndr.get("limited_by_sender") else ""
        lat_text = (f"{lat['p50_ns'] / 1e3:.1f} / {lat['p99_ns'] / 1e3:.1f} / "
                    f"{lat['p999_ns'] / 1e3:.1f}" if lat else "–")
        rtt_text = f"{rl['p50_ns'] / 1e3:.1f} / {rl['p999_ns'] / 1e3:.1f}" if rl else "–"
        out.append(
            f"| {entry['path']} | {entry['frame_size']} | "
            f"{_fmt(ndr and ndr['rate_pps'] / 1e6, 3)}{star} | "
            f"{_fmt(pdr and pdr['rate_pps'] / 1e6, 3)} | {lat_text} | {rtt_text} | "
            f"{_fmt(summary['tcp_gbps'].get(entry['path']))} |")
    out.append("")
    if plot_file:
        out.append(f"![latency distributions and throughput vs baseline]({plot_file})\n")
    if summary["errors"]:
        out.append("### Errors\n")
        for error in summary["errors"]:
            out.append(f"- `{error['path']}` {error['what']}: {error['message']}")
        out.append("")
    return "\n".join(out)


def plot(doc: dict, summary: dict, out_file: str) -> None:
    """A PNG: latency CDFs per path (one-way and round trip) and throughput per path."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    frames = doc["config"]["frame_sizes"]
    frame = 64 if 64 in frames else frames[0]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    (ax_oneway, ax_rtt), (ax_ndr, ax_tcp) = axes

    def cdf(ax, trials: list[tuple[str, dict]], title: str) -> None:
        for label, latency in trials:
            points = latency.get("cdf", [])
            if not points:
                continue
            ax.plot([p[1] / 1e3 for p in points], [p[0] for p in points], label=label)
        ax.set_xscale("log")
        ax.set_xlabel("µs")
        ax.set_ylabel("fraction of packets")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:
            ax.legend(fontsize="small")

    oneway = []
    for entry in doc.get("udp", []):
        if entry["frame_size"] != frame:
            continue
        for item in entry.get("latency", []):
            if abs(item["fraction"] - HEADLINE_FRACTION) < 1e-9:
                oneway.append((entry["path"], item["trial"]["latency"]))
    cdf(ax_oneway, oneway,
        f"One-way latency, {frame}-byte frames, {HEADLINE_FRACTION:.0%} of NDR")
    cdf(ax_rtt, [(r["path"], r["trial"]["latency"]) for r in doc.get("rtt", [])
                 if r["frame_size"] == frame],
        f"Round-trip time, {frame}-byte frames, {doc['config'].get('rtt_rate_pps', 0):g} pps")

    paths = [p["name"] for p in doc.get("paths", [])]
    udp = _index(doc.get("udp", []), "path", "frame_size")
    width = 0.8 / max(1, len(paths))
    for i, path in enumerate(paths):
        values = [(udp[(path, f)]["ndr"]["rate_pps"] / 1e6
                   if (path, f) in udp and udp[(path, f)].get("ndr") else 0) for f in frames]
        ax_ndr.bar([x + i * width for x in range(len(frames))], values, width, label=path)
    ax_ndr.set_xticks([x + width * (len(paths) - 1) / 2 for x in range(len(frames))])
    ax_ndr.set_xticklabels([str(f) for f in frames])
    ax_ndr.set_xlabel("frame size (bytes)")
    ax_ndr.set_ylabel("Mpps")
    ax_ndr.set_title("UDP zero-loss rate (NDR) per path")
    ax_ndr.set_ylim(top=ax_ndr.get_ylim()[1] * 1.25)  # room for the legend
    ax_ndr.legend(fontsize="small", ncol=2)

    tcp = summary["tcp_gbps"]
    names = [p for p in paths if p in tcp]
    bars = ax_tcp.bar(names, [tcp[p] for p in names],
                      color=["tab:gray" if not _baseline_of(doc, p) else "tab:blue"
                             for p in names])
    for bar, path in zip(bars, names):
        base = _baseline_of(doc, path)
        if base and base in tcp and tcp[base] > 0:
            ax_tcp.annotate(f"{tcp[path] / tcp[base]:.2f}× {base}",
                            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            ha="center", va="bottom", fontsize="small")
    ax_tcp.set_ylabel("Gbit/s")
    ax_tcp.set_title("TCP bulk throughput (iperf3); grey = baseline")
    ax_tcp.tick_params(axis="x", labelrotation=15)

    fig.suptitle("nsmcert data path vs raw kernel baseline (same run)")
    fig.tight_layout()
    fig.savefig(out_file, dpi=110)
    plt.close(fig)


def _baseline_of(doc: dict, path: str) -> str | None:
    for p in doc.get("paths", []):
        if p["name"] == path:
            return p.get("baseline")
    return None
