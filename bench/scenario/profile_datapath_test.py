"""Tests of the perf script parsing and stage attribution of profile_datapath.py."""

import unittest

import profile_datapath as prof

SCRIPT = """\
nsmcert-traffic 101
\tffffffff8100 u32_classify+0x12 ([kernel.kallsyms])
\tffffffff8101 tcf_classify+0x40 ([kernel.kallsyms])
\tffffffff8102 __netif_receive_skb_core.constprop.0+0x200 ([kernel.kallsyms])
\tffffffff8103 udp_sendmsg+0x10 ([kernel.kallsyms])

nsmcert-traffic 101
\tffffffff8200 __netif_receive_skb_core.constprop.0+0x20 ([kernel.kallsyms])
\tffffffff8103 udp_sendmsg+0x10 ([kernel.kallsyms])

nsmcert-traffic 102
\t7f00 FillProbe (/usr/bin/nsmcert-trafficgen)

ksoftirqd/1 17
\tffffffff8300 vxlan_rcv+0x1 ([kernel.kallsyms])
\tffffffff8301 net_rx_action+0x1 ([kernel.kallsyms])

cc1plus 999
\tffffffff8400 udp_sendmsg+0x1 ([kernel.kallsyms])

nsmcert-traffic 101
\tffffffff8500 mystery_function+0x1 ([kernel.kallsyms])
"""


class ProfileTest(unittest.TestCase):
    def test_parse_samples(self):
        samples = prof.parse_perf_script(SCRIPT)
        self.assertEqual(len(samples), 6)
        self.assertEqual(samples[0][0], "nsmcert-traffic")
        self.assertEqual(samples[0][1][0], ("u32_classify+0x12", "[kernel.kallsyms]"))
        self.assertEqual(samples[3][0], "ksoftirqd/1")

    def test_innermost_stage_wins(self):
        samples = prof.parse_perf_script(SCRIPT)
        self.assertEqual(prof.stage_of(samples[0][1]), "tc ingress (classify + mirred)")
        self.assertEqual(prof.stage_of(samples[1][1]), "receive stack (netif..udp queue)")
        self.assertEqual(prof.stage_of(samples[2][1]), prof.USER)
        self.assertEqual(prof.stage_of(samples[3][1]), "vxlan encap/decap")
        self.assertEqual(prof.stage_of(samples[5][1]), prof.OTHER_KERNEL)
        self.assertEqual(prof.stage_of([]), prof.OTHER_KERNEL)

    def test_breakdown_counts_watched_threads_per_packet(self):
        samples = prof.parse_perf_script(SCRIPT)
        # 250 us per sample, 1000 packets: each sample is 0.25 us per packet.
        stages = prof.breakdown(samples, 250.0, 1000)
        self.assertAlmostEqual(stages["tc ingress (classify + mirred)"], 0.25)
        self.assertAlmostEqual(stages["vxlan encap/decap"], 0.25)
        self.assertAlmostEqual(sum(stages.values()), 5 * 0.25)  # cc1plus is not watched
        self.assertEqual(prof.breakdown(samples, 250.0, 0), {})

    def test_markdown_lists_every_stage(self):
        result = {"path": "p", "sent_pps": 1000.0, "cpu_us_per_packet_total": 1.5,
                  "stages_us_per_packet": {prof.USER: 1.5}}
        text = prof.markdown([result])
        self.assertIn("| user space (generator) | 1.500 |", text)
        self.assertIn("**1.500**", text)
        self.assertEqual(text.count("\n") + 1, 2 + len(prof.STAGES) + 2 + 2)


if __name__ == "__main__":
    unittest.main()
