"""Tests of the scenario report (summary, Markdown, plot) on a hand-written document."""

import importlib.util
import os
import tempfile
import unittest

import report


def _round(shape, concurrency, p50, base_p50, count=200):
    latency = {"count": count, "min_ms": p50 / 2, "p50_ms": p50, "p90_ms": p50 * 1.5,
               "p99_ms": p50 * 2, "max_ms": p50 * 3, "mean_ms": p50, "failures": 0,
               "wall_ms": 1000.0, "per_second": 150.0}
    return {"shape": shape, "concurrency": concurrency, "connections": count,
            "request": latency, "close": dict(latency, p50_ms=p50 * 4),
            "baseline_health_check": dict(latency, p50_ms=base_p50), "p50_ratio": p50 / base_p50}


DOC = {
    "schema": "nsmcert-scenario/1",
    "domain_start_ms": 300.0,
    "setup": [_round("local", 1, 4.0, 0.1), _round("remote", 1, 12.0, 0.1),
              _round("local", 100, 50.0, 0.5)],
    "memory": [{"shape": "local", "connections": 200, "failures": 0, "errors": [],
                "processes": [{"process": "nsmgr-a", "before_bytes": 10 * 2**20,
                               "after_bytes": 10 * 2**20 + 200 * 4096, "connections": 200,
                               "bytes_per_connection": 4096.0,
                               "after_close_bytes": 10 * 2**20}]}],
    "heal": [{"role": "local-forwarder", "healed": 2, "median_healed_ms": 340.0,
              "repetitions": [
                  {"outcome": {"outage": True, "longest_outage_ms": 110.0, "rerequest_ms": 330.0,
                               "healed_ms": 340.0, "outage_start_ms": 230.0}},
                  {"outcome": {"outage": False, "longest_outage_ms": 0.0, "rerequest_ms": 300.0,
                               "healed_ms": 320.0, "outage_start_ms": None}},
                  {"error": "request: UNAVAILABLE"}]}],
    "errors": [],
}


class ScenarioReportTest(unittest.TestCase):
    def test_rejects_other_schemas(self):
        with self.assertRaises(ValueError):
            report.summarize({"schema": "nsmcert-datapath/1"})

    def test_setup_targets_and_ratio(self):
        s = report.summarize(DOC)["setup"]
        self.assertEqual(len(s), 3)
        self.assertTrue(s[0]["meets_target"])       # local 4 ms <= 5 ms
        self.assertFalse(s[1]["meets_target"])      # remote 12 ms > 10 ms
        self.assertAlmostEqual(s[0]["ratio"], 40.0)
        self.assertEqual(s[2]["close_p50_ms"], 200.0)

    def test_memory_per_connection_in_kib(self):
        m = report.summarize(DOC)["memory"][0]
        self.assertEqual(m["process"], "nsmgr-a")
        self.assertAlmostEqual(m["kib_per_connection"], 4.0)
        self.assertAlmostEqual(m["before_mib"], 10.0)

    def test_heal_medians_and_errors(self):
        h = report.summarize(DOC)["heal"][0]
        self.assertEqual(h["repetitions"], 3)
        self.assertEqual(h["outages"], 1)
        self.assertEqual(h["median_outage_ms"], 110.0)
        self.assertEqual(h["median_rerequest_ms"], 300.0)  # lower median of two
        self.assertEqual(h["errors"], ["request: UNAVAILABLE"])

    def test_markdown(self):
        text = report.markdown(DOC, report.summarize(DOC), "x.png")
        self.assertIn("| local | 1 | 200 | 4.00 | 8.00 | 150 | 0 | 0.100 | 40x | 5 | yes |", text)
        self.assertIn("| remote | 1 | 200 | 12.00 | 24.00 | 150 | 0 | 0.100 | 120x | 10 | **no** |",
                      text)
        self.assertIn("| local-forwarder | 3 | 2 | 340 | 300 | 1 | 110 |", text)
        self.assertIn("| local | nsmgr-a | 200 | 10.0 | 10.8 | 10.0 | 4.0 |", text)
        self.assertIn("![scenarios](x.png)", text)

    def test_missing_parts_are_left_out(self):
        doc = {"schema": "nsmcert-scenario/1", "setup": {"error": "x"}, "errors": [
            {"what": "domain", "message": "no daemons"}]}
        summary = report.summarize(doc)
        self.assertEqual(summary, {"setup": [], "memory": [], "heal": []})
        text = report.markdown(doc, summary, None)
        self.assertIn("error (domain): no daemons", text)
        self.assertIn("- setup: could not run: x", text)

    @unittest.skipIf(importlib.util.find_spec("matplotlib") is None, "matplotlib not installed")
    def test_plot_writes_a_png(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "s.png")
            report.plot(DOC, report.summarize(DOC), out)
            with open(out, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


if __name__ == "__main__":
    unittest.main()
