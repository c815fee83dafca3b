"""Tests of report.py on a small hand-written result document (no root, no matplotlib needed
except for the plot test, which is skipped without it)."""

import os
import tempfile
import unittest

import report


def latency(p50_ns, p999_ns=None):
    p999_ns = p999_ns or p50_ns * 3
    return {"count": 100, "min_ns": p50_ns // 2, "p50_ns": p50_ns, "p90_ns": p50_ns,
            "p99_ns": p999_ns, "p999_ns": p999_ns, "max_ns": p999_ns, "mean_ns": p50_ns,
            "cdf": [[0.0, p50_ns // 2], [0.5, p50_ns], [1.0, p999_ns]]}


def udp(path, frame, ndr_pps, p50_ns, limited=False):
    search = {"found": True, "rate_pps": ndr_pps, "limited_by_sender": limited, "trials": []}
    return {"path": path, "frame_size": frame, "payload_bytes": frame - 46,
            "ndr": search, "pdr": dict(search, rate_pps=ndr_pps * 1.01),
            "latency": [{"fraction": 0.1, "rate_pps": ndr_pps / 10,
                         "trial": {"latency": latency(p50_ns)}},
                        {"fraction": 0.5, "rate_pps": ndr_pps / 2,
                         "trial": {"latency": latency(p50_ns * 10)}}]}


def document():
    return {
        "schema": "nsmcert-datapath/1",
        "config": {"frame_sizes": [64, 1518], "pdr_loss": 0.005, "rtt_rate_pps": 5000},
        "paths": [{"name": "plain-veth", "baseline": None},
                  {"name": "veth-xconnect", "baseline": "plain-veth"}],
        "udp": [udp("plain-veth", 64, 1_000_000, 10_000, limited=True),
                udp("veth-xconnect", 64, 960_000, 12_000),
                udp("plain-veth", 1518, 500_000, 20_000),
                udp("veth-xconnect", 1518, 400_000, 30_000)],
        "rtt": [{"path": "plain-veth", "frame_size": 64, "trial": {"latency": latency(30_000)}},
                {"path": "veth-xconnect", "frame_size": 64,
                 "trial": {"latency": latency(31_500)}}],
        "tcp": [{"path": "plain-veth", "received_bps": 10e9},
                {"path": "plain-veth", "received_bps": 12e9},
                {"path": "veth-xconnect", "received_bps": 10.45e9}],
        "errors": [{"path": "veth-xconnect", "what": "tcp (iperf3)", "message": "boom"}],
    }


class SummarizeTest(unittest.TestCase):
    def test_ratios_and_added_latency_against_the_baseline(self):
        summary = report.summarize(document())
        self.assertEqual(len(summary["comparisons"]), 1, "only paths with a baseline")
        comparison = summary["comparisons"][0]
        self.assertEqual(comparison["baseline"], "plain-veth")
        small, large = comparison["udp"]
        self.assertAlmostEqual(small["ndr_ratio"], 0.96)
        self.assertFalse(small["ndr_sender_limited"])
        self.assertTrue(small["baseline_ndr_sender_limited"], "the baseline's NDR is a bound")
        self.assertTrue(small["meets_throughput_target"])
        self.assertAlmostEqual(small["added_oneway_p50_us"], 2.0)
        self.assertTrue(small["meets_latency_target"])
        self.assertAlmostEqual(small["added_rtt_p50_us"], 1.5)
        self.assertAlmostEqual(large["ndr_ratio"], 0.8)
        self.assertFalse(large["meets_throughput_target"])
        self.assertAlmostEqual(large["added_oneway_p50_us"], 10.0)
        self.assertFalse(large["meets_latency_target"])
        self.assertIsNone(large["added_rtt_p50_us"], "no RTT trial at 1518")
        tcp = comparison["tcp"]
        self.assertAlmostEqual(tcp["baseline_gbps"], 11.0, msg="mean of the two runs")
        self.assertAlmostEqual(tcp["ratio"], 0.95)
        self.assertTrue(tcp["meets_throughput_target"])

    def test_rejects_another_schema(self):
        with self.assertRaises(ValueError):
            report.summarize({"schema": "something-else"})

    def test_markdown_names_paths_ratios_and_errors(self):
        doc = document()
        text = report.markdown(doc, report.summarize(doc), "run.png")
        self.assertIn("### veth-xconnect vs plain-veth", text)
        self.assertIn("| 64 | 0.960 | 1.000* | 0.96 |", text)
        self.assertIn("= **0.95**", text)
        self.assertIn("![latency distributions and throughput vs baseline](run.png)", text)
        self.assertIn("`veth-xconnect` tcp (iperf3): boom", text)


class PlotTest(unittest.TestCase):
    def test_writes_a_png(self):
        try:
            import matplotlib  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
        except ImportError:
            self.skipTest("matplotlib not installed")
        doc = document()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "plot.png")
            report.plot(doc, report.summarize(doc), out)
            with open(out, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


if __name__ == "__main__":
    unittest.main()
