"""The supervisor and health probes through the bindings: real processes, real signals, the real
nsmcert-registry daemon."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

import nsmcert
from conftest import harness_namespaces

REGISTRY_SERVICES = ["registry.NetworkServiceRegistry", "registry.NetworkServiceEndpointRegistry"]


def _wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_output_environment_and_exit_status(supervisor):
    process = supervisor.start(
        "greeter", ["sh", "-c", 'echo "hello $WHO"; exit 3'], env={"WHO": "python"}
    )
    status = process.wait(10)
    assert not status.signaled and status.code == 3 and not status.success
    assert process.last_exit == status
    assert "hello python" in process.read_log()
    assert Path(process.log_path).parent == Path(supervisor.log_dir)
    assert str(status) == "exited with code 3"


def test_kill_restart_stop(supervisor):
    process = supervisor.start("sleeper", ["sleep", "60"])
    assert process.running and process.pid > 0 and process.starts == 1
    first_pid = process.pid
    process.kill()
    assert not process.running
    assert process.last_exit.signaled and process.last_exit.signal == signal.SIGKILL
    process.restart()
    assert process.running and process.starts == 2 and process.pid != first_pid
    process.stop(grace=5)
    assert process.last_exit.signaled and process.last_exit.signal == signal.SIGTERM
    assert supervisor.find("sleeper") is not None and supervisor.find("nobody") is None


def test_pause_and_resume(supervisor):
    process = supervisor.start("pausable", ["sleep", "60"])
    process.pause()
    state = Path(f"/proc/{process.pid}/stat").read_text().split(")")[1].split()[0]
    assert state == "T"
    process.resume()
    state = Path(f"/proc/{process.pid}/stat").read_text().split(")")[1].split()[0]
    assert state != "T"


def test_close_kills_everything_and_invalidates_processes(tmp_path):
    supervisor = nsmcert.Supervisor(log_dir=str(tmp_path))
    process = supervisor.start("orphan-to-be", ["sleep", "60"])
    pid = process.pid
    supervisor.close()
    assert supervisor.closed
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    with pytest.raises(nsmcert.FailedPreconditionError, match="closed"):
        process.running
    with pytest.raises(nsmcert.FailedPreconditionError):
        supervisor.start("late", ["true"])


def test_wait_healthy_gives_up_when_the_process_dies(supervisor, short_dir):
    process = supervisor.start("dies", ["sh", "-c", "echo dying on purpose; exit 7"])
    with pytest.raises(nsmcert.NsmcertError, match="dying on purpose"):
        process.wait_healthy(f"unix://{short_dir}/none.sock", timeout=10)


def test_registry_health_kill_and_restart(supervisor, registry_binary, short_dir):
    url = f"unix://{short_dir}/registry.sock"
    registry = supervisor.start(
        "registry", [registry_binary], env={"NSM_LISTEN_ON": url, "NSM_LOG_LEVEL": "DEBUG"}
    )
    registry.wait_healthy(url, REGISTRY_SERVICES, timeout=20)
    assert nsmcert.check_health(url) == "SERVING"
    for service in REGISTRY_SERVICES:
        assert nsmcert.check_health(url, service) == "SERVING"
    with pytest.raises(nsmcert.NotFoundError, match="no.such.Service"):
        nsmcert.check_health(url, "no.such.Service")

    registry.kill()
    with pytest.raises(nsmcert.UnavailableError):
        nsmcert.check_health(url, timeout=1)

    registry.restart()
    registry.wait_healthy(url, REGISTRY_SERVICES, timeout=20)
    assert registry.starts == 2
    registry.stop(grace=5)
    # SIGTERM: the registry shuts down cleanly.
    assert registry.last_exit.success, registry.log_tail()
    assert "serving the registry" in registry.read_log()


@pytest.mark.privileged
def test_registry_inside_a_node_on_tcp(supervisor, registry_binary, short_dir, topology):
    node = topology.node("node-a")
    report = short_dir / "listen"
    registry = supervisor.start(
        "registry",
        [registry_binary],
        env={"NSM_LISTEN_ON": f"tcp://{node.address}:0", "NSMCERT_LISTEN_REPORT": str(report)},
        netns=node.netns,
    )
    assert _wait_until(lambda: report.is_file() and report.stat().st_size > 0), registry.log_tail()
    url = report.read_text().split()[0]
    assert url.startswith(f"tcp://{node.address}:")
    # The address exists only inside the node: probe from there, and from node-b over the fabric.
    registry.wait_healthy(url, REGISTRY_SERVICES, timeout=20, netns=node.netns)
    assert nsmcert.check_health(url, netns=topology.node("node-b")) == "SERVING"
    with pytest.raises(nsmcert.UnavailableError):
        nsmcert.check_health(url, timeout=0.5)  # not from the test's own namespace
    prefix = topology.namespace_prefix
    pid = registry.pid
    topology.teardown()  # kills what runs inside the namespaces
    assert _wait_until(lambda: not registry.running)
    assert not harness_namespaces(prefix)
    assert not os.path.exists(f"/proc/{pid}/ns")
