"""C++ errors arrive as Python exceptions of the right class, carrying the engine's message."""

from __future__ import annotations

import pytest

import nsmcert
from nsmcert import _core


def test_every_error_class_is_an_nsmcert_error():
    for cls in (
        nsmcert.InvalidArgumentError,
        nsmcert.NotFoundError,
        nsmcert.AlreadyExistsError,
        nsmcert.PermissionDeniedError,
        nsmcert.FailedPreconditionError,
        nsmcert.DeadlineExceededError,
        nsmcert.UnavailableError,
        nsmcert.InternalError,
        nsmcert.PacketExpectationError,
    ):
        assert issubclass(cls, nsmcert.NsmcertError)
    # ... and the matching built-in, so generic handlers work too.
    assert issubclass(nsmcert.InvalidArgumentError, ValueError)
    assert issubclass(nsmcert.NotFoundError, LookupError)
    assert issubclass(nsmcert.DeadlineExceededError, TimeoutError)
    assert issubclass(nsmcert.PacketExpectationError, AssertionError)


def test_bad_topology_yaml_names_position_and_field():
    text = "fabric:\n  underlay: 10.100.0.0/24\nnodes:\n  - name: node-a\n    address: 10.200.0.1\n"
    with pytest.raises(nsmcert.InvalidArgumentError) as raised:
        _core.parse_topology(text, "bad.yaml")
    message = str(raised.value)
    assert message.startswith("bad.yaml:5:")
    assert "nodes[0].address" in message
    assert raised.value.code == "INVALID_ARGUMENT"
    assert isinstance(raised.value, ValueError)


def test_unknown_topology_key_is_an_error():
    with pytest.raises(nsmcert.InvalidArgumentError, match="tyop"):
        nsmcert.load_spec({"fabric": {"underlay": "10.1.0.0/24"}, "tyop": 1,
                           "nodes": [{"name": "a", "address": "10.1.0.1"}]})


def test_missing_topology_file_is_not_found():
    with pytest.raises(nsmcert.NotFoundError, match="/nonexistent/topo.yaml") as raised:
        _core.load_topology_file("/nonexistent/topo.yaml")
    assert raised.value.code == "NOT_FOUND"
    assert isinstance(raised.value, LookupError)


def test_bad_manifest_names_file_line_and_field(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("vendor: v\nproduct: p\nversion: 1\nfeatures: [mechanism.kernal]\n")
    with pytest.raises(nsmcert.InvalidArgumentError) as raised:
        nsmcert.load_manifest(str(path))
    assert str(raised.value).startswith(f"{path}:4:")
    assert "mechanism.kernal" in str(raised.value)


def test_starting_a_missing_program_is_not_found(supervisor):
    with pytest.raises(nsmcert.NotFoundError, match="no-such-program-xyz"):
        supervisor.start("ghost", ["no-such-program-xyz"])


def test_packet_builder_error_names_layer_and_field():
    with pytest.raises(nsmcert.InvalidArgumentError, match="ipv4") as raised:
        nsmcert.PacketBuilder().ethernet().ipv4(src="10.0.0.300", dst="10.0.0.2").icmp().build()
    assert "10.0.0.300" in str(raised.value)


def test_template_mistakes_are_reported():
    with pytest.raises(nsmcert.InvalidArgumentError, match="ip.nosuchfield"):
        nsmcert.template({"ip.nosuchfield": 1})


def test_negative_durations_are_rejected(supervisor):
    process = supervisor.start("sleeper", ["sleep", "30"])
    with pytest.raises(nsmcert.InvalidArgumentError, match="grace"):
        process.stop(grace=-1)
    process.kill()


def test_other_codes_keep_their_name_in_the_message(supervisor):
    process = supervisor.start("quick", ["true"])
    process.wait(10)
    # Killing a process that is not running is FAILED_PRECONDITION.
    with pytest.raises(nsmcert.FailedPreconditionError) as raised:
        process.kill()
    assert raised.value.code == "FAILED_PRECONDITION"
