"""The conformance runner through the bindings: manifests, cases written in Python, verdicts,
evidence and results files."""

from __future__ import annotations

import json
import time

import pytest

import nsmcert
from conftest import FIXTURES, harness_namespaces


class Passes(nsmcert.Case):
    id = "PY-TEST-001"
    title = "passes, leaving evidence"
    spec = "test"

    def arrange(self, ctx):
        self.steps = ["arrange"]
        ctx.log("arranged")

    def act(self, ctx):
        self.steps.append("act")
        ctx.write_evidence("note", "steps.txt", ",".join(self.steps), "what ran")

    def verify(self, ctx):
        assert ctx.info["id"] == "PY-TEST-001"
        assert ctx.manifest.vendor == "nsmcert project"
        assert 0 < ctx.remaining <= 30
        assert not ctx.cancelled


class FailsWithAssert(nsmcert.Case):
    id = "PY-TEST-002"
    title = "an assert in verify fails the case"
    spec = "test"

    def verify(self, ctx):
        observed = 3
        assert observed == 4, f"path segment count: expected 4, observed {observed}"


class FailsWithCaseFailed(nsmcert.Case):
    id = "PY-TEST-003"
    title = "CaseFailed in act fails the case"
    level = "SHOULD"
    area = "registry"
    spec = "test"

    def act(self, ctx):
        raise nsmcert.CaseFailed("registry answered NOT_FOUND")


class Skips(nsmcert.Case):
    id = "PY-TEST-004"
    title = "CaseSkipped skips"
    spec = "test"

    def arrange(self, ctx):
        raise nsmcert.CaseSkipped("needs two forwarders")


class Breaks(nsmcert.Case):
    id = "PY-TEST-005"
    title = "any other exception is a harness error"
    level = "MAY"
    spec = "test"

    def act(self, ctx):
        {}["missing"]


class NotApplicable(nsmcert.Case):
    id = "PY-TEST-006"
    title = "needs a feature the manifest does not claim"
    features = ["mechanism.wireguard"]
    spec = "test"

    def act(self, ctx):
        raise AssertionError("must not run")


class SoftChecks(nsmcert.Case):
    id = "PY-TEST-007"
    title = "soft checks report every mismatch"
    level = "SHOULD"
    spec = "test"

    def verify(self, ctx):
        ctx.check(True, "this holds")
        ctx.check(False, "label nodeName")
        ctx.fail_later("mtu: expected 1446, observed 1500")


def run(tmp_path, *cases, **kwargs):
    return nsmcert.run_cases("reference", tmp_path / "out", cases=list(cases), timeout=30, **kwargs)


def test_manifest_from_fixtures():
    manifest = nsmcert.load_manifest("reference")
    assert manifest.vendor == "nsmcert project"
    assert manifest.claims("mechanism.kernel") and not manifest.claims("mechanism.wireguard")
    assert set(manifest.roles) == {"registry", "nsmgr", "forwarder", "nse", "nsc"}
    assert manifest.role("nsmgr").implementation == "reference"
    assert manifest.missing_features(["mechanism.kernel", "ipv6"]) == ["ipv6"]
    assert "mechanism.kernel" in nsmcert.known_features()


def test_external_manifest_and_templates():
    manifest = nsmcert.load_manifest(str(FIXTURES / "manifests" / "example-external.yaml"))
    external = [role for role in manifest.roles.values() if role.external]
    assert external, "the example manifest declares external roles"
    assert nsmcert._core.expand_template("{node}:{{x}}", {"node": "node-a"}) == "node-a:{x}"
    with pytest.raises(nsmcert.InvalidArgumentError, match="nope"):
        nsmcert._core.expand_template("{nope}", {})


def test_verdicts_of_python_cases(tmp_path):
    results = run(tmp_path, Passes, FailsWithAssert, FailsWithCaseFailed, Skips, Breaks,
                  NotApplicable, SoftChecks)
    assert results.statuses() == {
        "PY-TEST-001": "pass",
        "PY-TEST-002": "fail",
        "PY-TEST-003": "fail",
        "PY-TEST-004": "skip",
        "PY-TEST-005": "error",
        "PY-TEST-006": "n-a",
        "PY-TEST-007": "fail",
    }
    assert results["PY-TEST-002"].message == "path segment count: expected 4, observed 3"
    assert results["PY-TEST-002"].phase == "assert"
    assert results["PY-TEST-003"].message == "registry answered NOT_FOUND"
    assert results["PY-TEST-003"].phase == "act" and results["PY-TEST-003"].level == "SHOULD"
    assert results["PY-TEST-004"].message == "needs two forwarders"
    assert "KeyError" in results["PY-TEST-005"].message
    assert results["PY-TEST-006"].missing_features == ["mechanism.wireguard"]
    soft = results["PY-TEST-007"]
    assert "expected label nodeName" in " ".join([soft.message, *soft.details])
    assert any("mtu: expected 1446" in d for d in [soft.message, *soft.details])
    # A MUST failure and a harness error: exit code 2 (the harness broke) wins.
    assert results.exit_code == 2 and not results.passed
    assert results.summary["failed_must"] == ["PY-TEST-002"]
    assert results.summary["errors"] == ["PY-TEST-005"]


def test_results_files_and_evidence(tmp_path):
    results = run(tmp_path, Passes, Breaks)
    out = tmp_path / "out"
    assert (out / "results.json").is_file() and (out / "junit.xml").is_file()
    evidence = {e.path: e for e in results["PY-TEST-001"].evidence}
    assert evidence["cases/PY-TEST-001/steps.txt"].kind == "note"
    assert (out / "cases" / "PY-TEST-001" / "steps.txt").read_text() == "arrange,act"
    assert "arranged" in (out / "cases" / "PY-TEST-001" / "case.log").read_text()
    # The traceback of a harness error lands in the case log.
    assert "KeyError" in (out / "cases" / "PY-TEST-005" / "case.log").read_text()

    loaded = nsmcert.Results.load(out)
    assert loaded.statuses() == results.statuses()
    assert loaded.exit_code == results.exit_code
    document = json.loads((out / "results.json").read_text())
    assert loaded.to_dict()["cases"] == document["cases"]
    assert [c["id"] for c in document["cases"]] == ["PY-TEST-001", "PY-TEST-005"]


def test_passing_run_exits_zero(tmp_path):
    results = run(tmp_path, Passes, write_bundle=False)
    assert results.exit_code == 0 and results.passed and results.summary["verdict"] == "pass"
    assert results.run.isolation == "thread"


def test_a_case_that_outlives_its_timeout_is_cancelled(tmp_path):
    class Slow(nsmcert.Case):
        id = "PY-TEST-008"
        title = "waits until cancelled"
        spec = "test"
        timeout = 0.5

        def act(self, ctx):
            while not ctx.cancelled:
                time.sleep(0.01)

    started = time.monotonic()
    results = run(tmp_path, Slow, grace=5)
    assert results["PY-TEST-008"].status == "error"
    assert "timed out" in results["PY-TEST-008"].message
    assert time.monotonic() - started < 5


def test_context_is_unusable_after_its_phase(tmp_path):
    kept = []

    class Keeps(nsmcert.Case):
        id = "PY-TEST-009"
        title = "keeps its context"
        spec = "test"

        def act(self, ctx):
            kept.append(ctx)

    run(tmp_path, Keeps)
    with pytest.raises(nsmcert.FailedPreconditionError, match="phase that has ended"):
        kept[0].log("too late")


def test_bad_case_metadata_is_refused(tmp_path):
    class BadId(nsmcert.Case):
        id = "not an id"
        title = "t"
        spec = "test"

    with pytest.raises(nsmcert.InvalidArgumentError, match="not an id"):
        run(tmp_path, BadId)
    with pytest.raises(nsmcert.InvalidArgumentError, match="process"):
        run(tmp_path, Passes, isolation="process")


def test_catalogue_selection_errors(tmp_path):
    with pytest.raises(nsmcert.FailedPreconditionError, match="no case selected"):
        nsmcert.run_cases("reference", tmp_path / "out", filter="NO-SUCH-*", isolation="thread")
    with pytest.raises(nsmcert.InvalidArgumentError):
        nsmcert.list_cases(filter="area:nowhere")
    listed = nsmcert.list_cases()
    assert all({"id", "title", "level", "area"} <= set(case) for case in listed)


@pytest.mark.privileged
def test_a_python_case_on_a_real_topology(tmp_path):
    prefixes = []

    class PingOverTheUnderlay(nsmcert.Case):
        id = "PY-TEST-010"
        title = "nodes reach each other over the underlay"
        area = "connectivity"
        spec = "test"

        def arrange(self, ctx):
            self.topo = nsmcert.Topology.build("two-node", handle_signals=False)
            prefixes.append(self.topo.namespace_prefix)
            pcap = ctx.evidence_file("pcap", "underlay.pcap", "node-b's underlay")
            self.capture = nsmcert.Capture(self.topo.node("node-b"), "ul0", filter="icmp",
                                           pcap_path=pcap)

        def act(self, ctx):
            self.capture.flush()
            self.answered = self.topo.ping("node-a", "10.100.0.2")

        def verify(self, ctx):
            assert self.answered, "node-a's ping to 10.100.0.2 was not answered"
            self.capture.expect_packet({"ip.dst": "10.100.0.2", "icmp.type": 8})

        def close(self):
            self.capture.stop()
            self.topo.teardown()

    results = run(tmp_path, PingOverTheUnderlay)
    assert results["PY-TEST-010"].status == "pass", results["PY-TEST-010"].message
    [pcap] = [e for e in results["PY-TEST-010"].evidence if e.kind == "pcap"]
    assert len(nsmcert.read_pcap(str(tmp_path / "out" / pcap.path)).packets) >= 2
    assert prefixes and not harness_namespaces(prefixes[0])


def test_a_python_case_starts_roles_like_the_catalogue(tmp_path, registry_binary):
    seen = {}

    class RegistryRole(nsmcert.Case):
        id = "PY-TEST-011"
        title = "starts the manifest's registry through the case context"
        area = "registry"
        spec = "test"

        def arrange(self, ctx):
            self.registry = ctx.start_role("registry")

        def act(self, ctx):
            seen["url"] = self.registry.url
            seen["healthy"] = nsmcert.check_health(self.registry.url)
            self.registry.kill()
            seen["after_kill"] = self.registry.running
            self.registry.restart(timeout=20)

        def verify(self, ctx):
            assert self.registry.running and self.registry.supervised
            assert self.registry.implementation == "reference"

        def close(self):
            self.registry.stop()

    results = run(tmp_path, RegistryRole)
    assert results["PY-TEST-011"].status == "pass", results["PY-TEST-011"].message
    assert seen["url"].startswith("unix://") and seen["healthy"] == "SERVING"
    assert seen["after_kill"] is False
    logs = [e for e in results["PY-TEST-011"].evidence if e.kind == "log"]
    assert any(e.path.endswith("registry.log") for e in logs), logs


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_catalogue_cases_against_the_reference(tmp_path, registry_binary, isolation):
    if isolation == "process":
        from conftest import require_binary

        require_binary(nsmcert.binaries.CLI)
    listed = {case["id"] for case in nsmcert.list_cases(filter="REG-001")}
    if not listed:
        pytest.skip("the catalogue has no REG-001 yet")
    results = nsmcert.run_cases("reference", tmp_path / "out", filter="REG-001",
                                isolation=isolation, timeout=60)
    assert results.run.isolation == isolation
    assert results.statuses() == {"REG-001": "pass"}, results["REG-001"].message
    assert results.exit_code == 0
    assert (tmp_path / "out" / "bundle.tar.gz").is_file()
