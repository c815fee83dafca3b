"""The pytest plugin's own behaviour, through inner pytest sessions (pytester): fixtures tear down
after failing tests, failure reports carry pcaps and daemon logs, the privileged marker skips."""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata

import pytest

import nsmcert

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def plugin_args() -> list:
    """Loads the plugin in the inner session when it is not installed through its entry point
    (running from a build tree with PYTHONPATH)."""
    try:
        names = {ep.name for ep in metadata.entry_points(group="pytest11")}
    except TypeError:  # Python < 3.10
        names = {ep.name for ep in metadata.entry_points().get("pytest11", [])}
    return [] if "nsmcert" in names else ["-p", "nsmcert.pytest_plugin"]


def run_inner(pytester, *args):
    return pytester.runpytest_subprocess(*plugin_args(), "-p", "no:cacheprovider", *args)


def test_plugin_is_registered_and_documents_its_markers(pytester):
    result = run_inner(pytester, "--markers")
    result.stdout.fnmatch_lines(["*privileged*needs root*", "*topology(source)*"])
    result = run_inner(pytester, "--help")
    result.stdout.fnmatch_lines(["*--nsmcert-bin-dir*"])


def test_privileged_marker_skips_without_root(pytester):
    pytester.makeconftest(
        """
        import nsmcert.pytest_plugin as plugin
        plugin.is_root = lambda: False
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.privileged
        def test_needs_root():
            raise AssertionError("must not run")

        def test_uses_topology(topology):
            raise AssertionError("must not run")

        def test_plain():
            pass
        """
    )
    result = run_inner(pytester, "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*needs root*"])


@pytest.mark.privileged
def test_fixtures_tear_down_after_a_failing_test(pytester, tmp_path):
    record = tmp_path / "record.json"
    pytester.makepyfile(
        f"""
        import json, nsmcert

        def test_fails_midway(topology, nsmcert_supervisor):
            sleeper = nsmcert_supervisor.start("sleeper", ["sleep", "600"],
                                               netns=topology.node("node-a"))
            json.dump({{"prefix": topology.namespace_prefix, "pid": sleeper.pid}},
                      open({str(record)!r}, "w"))
            assert 1 + 1 == 3, "failing on purpose"
        """
    )
    result = run_inner(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*failing on purpose*"])
    seen = json.loads(record.read_text())
    assert not [n for n in nsmcert.list_named_netns() if n.startswith(seen["prefix"])]
    assert not os.path.exists(f"/proc/{seen['pid']}")


@pytest.mark.privileged
def test_failure_report_carries_pcaps_and_daemon_logs(pytester):
    pytester.makepyfile(
        """
        import nsmcert

        def test_sees_traffic_then_fails(topology, capture, nsmcert_supervisor):
            topology.connect("nsc-a", "nse-b", "10.9.0.1/24", "10.9.0.2/24")
            cap = capture("nse-b", "veth0", filter="icmp")
            daemon = nsmcert_supervisor.start(
                "chatty", ["sh", "-c", "echo chatty-daemon-says-hello; sleep 600"])
            assert topology.ping("nsc-a", "10.9.0.2")
            cap.expect_packet({"icmp.type": 0})
            cap.expect_packet({"ip.dst": "10.9.0.200"}, timeout=0.2)  # fails

        def test_passes(topology, capture):
            capture("nse-b", "lo")
        """
    )
    result = run_inner(pytester, "--junitxml=report.xml")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    # The expectation's own message, then the attached sections.
    result.stdout.fnmatch_lines(
        [
            "*PacketExpectationError*10.9.0.200*",
            "*- nsmcert pcap 1-veth0.pcap -*",
            "*2 packet(s)*",
            "*icmp 8/0*",
            "*icmp 0/0*",
            "*- nsmcert log chatty -*",
            "*chatty-daemon-says-hello*",
        ]
    )
    # Only the failing test gets sections.
    assert out.count("nsmcert pcap") == 1
    junit = (pytester.path / "report.xml").read_text()
    assert 'name="nsmcert_pcap"' in junit and 'name="nsmcert_log"' in junit


@pytest.mark.privileged
def test_topology_marker_and_indirect_parameters(pytester):
    pytester.makepyfile(
        """
        import pytest

        LINE = {"fabric": {"underlay": "10.66.0.0/24"},
                "nodes": [{"name": "left", "address": "10.66.0.1"},
                          {"name": "right", "address": "10.66.0.2"}]}

        @pytest.mark.topology(LINE)
        def test_from_marker(topology):
            assert [n.name for n in topology.nodes] == ["left", "right"]
            assert topology.ping("left", "10.66.0.2")

        @pytest.mark.parametrize("topology", ["two-node", LINE], indirect=True)
        def test_parametrized(topology):
            assert len(topology.nodes) == 2

        def test_default(topology):
            assert topology.name == "two-node"
        """
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=4)


@pytest.mark.privileged
def test_reference_domain_fixture_runs_or_says_what_is_missing(pytester):
    pytester.makepyfile(
        """
        def test_domain(reference_domain):
            for process in reference_domain.processes().values():
                assert process.running
            assert reference_domain.registry_url.startswith("tcp://10.100.0.1:")
        """
    )
    result = run_inner(pytester, "-rs")
    outcomes = result.parseoutcomes()
    if outcomes.get("skipped"):
        result.stdout.fnmatch_lines(["*is not built or not found*"])
    else:
        result.assert_outcomes(passed=1)
