"""A reference NSM domain on a topology: the registry, and per node an nsmgr and a forwarder,
started as supervised processes; endpoints (NSE) and clients (NSC) in workload namespaces.

>>> with nsmcert.Topology.build("two-node") as topo, nsmcert.ReferenceDomain(topo) as domain:
...     domain.nse("nse-b", services=["icmp-responder"])
...     [conn] = domain.nsc("nsc-a", ["kernel://icmp-responder/nsm-1"]).request()
...     assert topo.ping("nsc-a", conn.dst_ip)

Daemons are found by :mod:`nsmcert.binaries`. A manifest can replace any of registry, nsmgr and
forwarder by an external implementation: a ``command`` started in the node's namespace (templates
``{name}``, ``{node}``, ``{listen_url}``, ``{registry_url}``, ``{connect_to}``, ``{tunnel_ip}``,
``{work_dir}``), or an ``address`` it already serves on.

Where daemons listen: the reference ones on a unix socket (reachable from every namespace: workload
namespaces have no route to a node) and on ``tcp://<node address>:0`` (for other nodes; the port
comes from the daemon's listen report, ``NSMCERT_LISTEN_REPORT``). External ones get the NSM
well-known ports, which cannot collide inside the run's private namespaces: registry
``tcp://<address>:5002``, nsmgr ``unix://<work dir>/nsmgr.sock,tcp://<address>:5001``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from . import _core, binaries
from .monitor import Monitor, connections_of
from .topology import Topology

REGISTRY_SERVICES = ["registry.NetworkServiceRegistry", "registry.NetworkServiceEndpointRegistry"]
NSMGR_SERVICES = [
    "networkservice.NetworkService",
    "connection.MonitorConnection",
    *REGISTRY_SERVICES,
]
FORWARDER_SERVICES = ["networkservice.NetworkService", "connection.MonitorConnection"]
NSE_SERVICES = ["networkservice.NetworkService"]

EXTERNAL_REGISTRY_PORT = 5002
EXTERNAL_NSMGR_PORT = 5001


class Connection(dict):
    """A Connection as a dict (the JSON an NSC prints or a monitor event carries), with
    accessors for what scenarios look at. Keys may be in proto (``network_service``) or JSON
    (``networkService``) spelling; the accessors read both."""

    def _get(self, *path: str, default: Any = None) -> Any:
        node: Any = self
        for key in path:
            if not isinstance(node, Mapping):
                return default
            camel = key.split("_")[0] + "".join(p.title() for p in key.split("_")[1:])
            if key in node:
                node = node[key]
            elif camel in node:
                node = node[camel]
            else:
                return default
        return node

    @property
    def id(self) -> str:
        return self._get("id", default="")

    @property
    def network_service(self) -> str:
        return self._get("network_service", default="")

    @property
    def endpoint(self) -> str:
        return self._get("network_service_endpoint_name", default="")

    @property
    def state(self) -> str:
        return self._get("state", default="")

    @property
    def mechanism(self) -> Dict[str, Any]:
        return self._get("mechanism", default={}) or {}

    @property
    def interface(self) -> str:
        """The kernel interface name in the client's namespace (mechanism parameter ``name``)."""
        return (self.mechanism.get("parameters") or {}).get("name", "")

    def _ips(self, field: str) -> List[str]:
        return list(self._get("context", "ip_context", field, default=[]) or [])

    @property
    def src_ips(self) -> List[str]:
        """The client side's addresses (CIDRs), from the IP context."""
        return self._ips("src_ip_addrs")

    @property
    def dst_ips(self) -> List[str]:
        """The endpoint side's addresses (CIDRs), from the IP context."""
        return self._ips("dst_ip_addrs")

    @property
    def src_ip(self) -> str:
        """The first client address without its prefix length ("" when none)."""
        return self.src_ips[0].split("/")[0] if self.src_ips else ""

    @property
    def dst_ip(self) -> str:
        """The first endpoint address without its prefix length ("" when none)."""
        return self.dst_ips[0].split("/")[0] if self.dst_ips else ""

    @property
    def path(self) -> List[str]:
        """The names of the path segments, client first."""
        segments = self._get("path", "path_segments", default=[]) or []
        return [segment.get("name", "") for segment in segments]


def _labels(labels: Optional[Mapping[str, str]], separator: str) -> str:
    return ",".join(f"{k}{separator}{v}" for k, v in (labels or {}).items())


def _wait_for_file(path: Path, process: _core.Process, timeout: float) -> str:
    """The contents of a file a process writes once it is ready (its listen report)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and path.stat().st_size > 0:
            return path.read_text()
        if not process.running:
            raise _core.FailedPreconditionError(
                f"{process.name} ended ({process.last_exit}) before writing {path}:\n"
                f"{process.log_tail(20)}"
            )
        time.sleep(0.02)
    raise TimeoutError(f"{process.name} did not write {path} within {timeout}s:\n{process.log_tail(20)}")


def _stop_together(processes: List[_core.Process], grace: float) -> None:
    """Stops processes in parallel (the bindings release the GIL while they wait)."""

    def stop(process: _core.Process) -> None:
        try:
            if process.running:
                process.stop(grace)
        except _core.FailedPreconditionError:
            pass  # it ended on its own in the meantime

    threads = [threading.Thread(target=stop, args=(p,)) for p in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class _Daemon:
    """One started role: its process (None for an external address) and its URLs."""

    def __init__(self, name: str, process: Optional[_core.Process], local_url: str, public_url: str):
        self.name = name
        self.process = process
        self.local_url = local_url  # unix://, reachable from any namespace
        self.public_url = public_url  # what other nodes dial


class ReferenceDomain:
    """Registry + per-node nsmgr and forwarder on a built topology.

    ``supervisor``: the one to start processes with (a new one, closed by :meth:`stop`, when
    None). ``manifest``: replaces roles by external implementations (see the module doc).
    ``registry_node``: where the registry runs (the first node by default).
    """

    def __init__(
        self,
        topology: Topology,
        *,
        supervisor: Optional[_core.Supervisor] = None,
        manifest: Optional[_core.Manifest] = None,
        registry_node: Optional[str] = None,
        log_level: str = "INFO",
        startup_timeout: float = 20.0,
        log_dir: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
    ):
        self.topology = topology
        self._own_supervisor = supervisor is None
        self.supervisor = supervisor or _core.Supervisor(log_dir=log_dir or "")
        self.manifest = manifest
        self.registry_node = registry_node or topology.nodes[0].name
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.env = dict(env or {})
        # Unix socket paths are limited to 108 bytes: keep them under a short directory of their
        # own, apart from the (possibly deep) log directory.
        self.run_dir = Path(tempfile.mkdtemp(prefix="nsmc-"))
        self.registry: Optional[_Daemon] = None
        self.nsmgrs: Dict[str, _Daemon] = {}
        self.forwarders: Dict[str, _Daemon] = {}
        self.endpoints: Dict[str, "NSE"] = {}
        self.clients: Dict[str, "NSC"] = {}
        self._started = False

    # -- lifetime --
    def start(self) -> "ReferenceDomain":
        """Starts the registry, then per node the nsmgr and the forwarder, each healthy before
        the next. On failure, what was started is stopped and the error raised."""
        if self._started:
            return self
        self._started = True
        try:
            self.registry = self._start_registry()
            for node in self.topology.nodes:
                self.nsmgrs[node.name] = self._start_nsmgr(node)
            for node in self.topology.nodes:
                self.forwarders[node.name] = self._start_forwarder(node)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, grace: float = 2.0) -> None:
        """Stops what the domain started, the reverse way it started: clients and endpoints,
        then forwarders, nsmgrs, the registry; each tier at once (SIGTERM, SIGKILL after
        ``grace``), so every daemon still has its peers while it shuts down. Removes the socket
        directory. Idempotent."""
        if not self.supervisor.closed:
            helpers = [h.process for h in [*self.clients.values(), *self.endpoints.values()]]
            tiers = [
                helpers,
                [d.process for d in self.forwarders.values()],
                [d.process for d in self.nsmgrs.values()],
                [self.registry.process] if self.registry is not None else [],
            ]
            for tier in tiers:
                _stop_together([p for p in tier if p is not None], grace)
            if self._own_supervisor:
                self.supervisor.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def __enter__(self) -> "ReferenceDomain":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- what runs --
    def processes(self) -> Dict[str, _core.Process]:
        """Every process this domain started, by name."""
        daemons: List[Optional[_Daemon]] = [
            self.registry,
            *self.nsmgrs.values(),
            *self.forwarders.values(),
        ]
        found = {d.name: d.process for d in daemons if d is not None and d.process is not None}
        for helper in [*self.endpoints.values(), *self.clients.values()]:
            if helper.process is not None:
                found[helper.name] = helper.process
        return found

    def process(self, name: str) -> _core.Process:
        return self.processes()[name]

    def log_paths(self) -> Dict[str, str]:
        """Process name -> log file, for everything this domain started."""
        if self.supervisor.closed:
            return {}
        return {name: process.log_path for name, process in self.processes().items()}

    @property
    def registry_url(self) -> str:
        assert self.registry is not None, "the domain is not started"
        return self.registry.public_url

    def nsmgr_url(self, node: str) -> str:
        """The nsmgr of ``node`` on its unix socket: what NSEs and NSCs of that node dial."""
        return self.nsmgrs[node].local_url

    def nsmgr_public_url(self, node: str) -> str:
        return self.nsmgrs[node].public_url

    def forwarder_url(self, node: str) -> str:
        return self.forwarders[node].local_url

    def nsmgr(self, node: str) -> _core.Process:
        return self.nsmgrs[node].process

    def forwarder(self, node: str) -> _core.Process:
        return self.forwarders[node].process

    def monitor(self, node: str, **selector: Any) -> Monitor:
        """A monitor stream on the nsmgr of ``node`` (selector: network_services, path_segments)."""
        return Monitor(self.nsmgr_url(node), **selector)

    # -- endpoints and clients --
    def nse(self, workload: str, **kwargs: Any) -> "NSE":
        """Starts an endpoint in a workload namespace (see :class:`NSE`) and waits until it
        serves."""
        endpoint = NSE(self, workload, **kwargs)
        self.endpoints[endpoint.name] = endpoint
        return endpoint.start()

    def nsc(self, workload: str, services: Sequence[str] = ("kernel://icmp-responder/nsm-1",),
            **kwargs: Any) -> "NSC":
        """A client in a workload namespace (see :class:`NSC`); not started yet."""
        client = NSC(self, workload, services, **kwargs)
        self.clients[client.name] = client
        return client

    # -- starting roles --
    def _role(self, role: str) -> Optional[_core.RoleSpec]:
        if self.manifest is None:
            return None
        spec = self.manifest.role(role)
        return spec if spec.external else None

    def _base_env(self, name: str) -> Dict[str, str]:
        env = {"NSM_NAME": name, "NSM_LOG_LEVEL": self.log_level}
        env.update(self.env)
        return env

    def _start_reference(
        self, name: str, binary: str, node: _core.Node, env: Dict[str, str], services: List[str]
    ) -> _Daemon:
        report = self.run_dir / f"{name}.listen"
        env = {**env, "NSMCERT_LISTEN_REPORT": str(report)}
        local_url = env["NSM_LISTEN_ON"].split(",")[0]
        process = self.supervisor.start(
            name, [binaries.require(binary)], env=env, netns=node.netns.path
        )
        process.wait_healthy(local_url, services, timeout=self.startup_timeout)
        urls = _wait_for_file(report, process, self.startup_timeout).split()
        public = next((u for u in urls if u.startswith("tcp://")), local_url)
        return _Daemon(name, process, local_url, public)

    def _start_external(
        self, role: _core.RoleSpec, name: str, node: _core.Node, values: Dict[str, str],
        health_url: str, services: List[str], public_url: str,
    ) -> _Daemon:
        if role.address:
            address = _core.expand_template(role.address, values)
            return _Daemon(name, None, address, address)
        argv = [_core.expand_template(arg, values) for arg in role.command]
        env = {k: _core.expand_template(v, values) for k, v in role.env.items()}
        process = self.supervisor.start(name, argv, env=env, netns=node.netns.path)
        process.wait_healthy(health_url, services, timeout=role.startup_timeout,
                             netns=node.netns.path)
        return _Daemon(name, process, health_url, public_url)

    def _values(self, name: str, node: _core.Node, listen_url: str, connect_to: str = "") -> Dict[str, str]:
        work_dir = self.run_dir / name
        work_dir.mkdir(exist_ok=True)
        return {
            "name": name,
            "node": node.name,
            "listen_url": listen_url,
            "registry_url": self.registry.public_url if self.registry else "",
            "connect_to": connect_to,
            "tunnel_ip": node.address,
            "work_dir": str(work_dir),
        }

    def _start_registry(self) -> _Daemon:
        node = self.topology.node(self.registry_node)
        name = "registry"
        external = self._role("registry")
        if external is not None:
            url = f"tcp://{node.address}:{EXTERNAL_REGISTRY_PORT}"
            return self._start_external(external, name, node, self._values(name, node, url),
                                        url, REGISTRY_SERVICES, url)
        env = self._base_env(name)
        env["NSM_LISTEN_ON"] = f"unix://{self.run_dir}/{name}.sock,tcp://{node.address}:0"
        return self._start_reference(name, binaries.REGISTRY, node, env, REGISTRY_SERVICES)

    def _start_nsmgr(self, node: _core.Node) -> _Daemon:
        name = f"nsmgr-{node.name}"
        unix_url = f"unix://{self.run_dir}/{name}.sock"
        external = self._role("nsmgr")
        if external is not None:
            tcp_url = f"tcp://{node.address}:{EXTERNAL_NSMGR_PORT}"
            values = self._values(name, node, f"{unix_url},{tcp_url}")
            return self._start_external(external, name, node, values, unix_url, NSMGR_SERVICES,
                                        tcp_url)
        env = self._base_env(name)
        env.update(
            {
                "NSM_LISTEN_ON": f"{unix_url},tcp://{node.address}:0",
                "NSM_REGISTRY_URL": self.registry_url,
                "NODE_NAME": node.name,
                "NSM_EXCLUDED_PREFIXES_PATH": str(self.run_dir / f"{name}-excluded-prefixes.yaml"),
            }
        )
        return self._start_reference(name, binaries.NSMGR, node, env, NSMGR_SERVICES)

    def _start_forwarder(self, node: _core.Node) -> _Daemon:
        name = f"forwarder-{node.name}"
        url = f"unix://{self.run_dir}/{name}.sock"
        connect_to = self.nsmgr_url(node.name)
        external = self._role("forwarder")
        if external is not None:
            values = self._values(name, node, url, connect_to)
            return self._start_external(external, name, node, values, url, FORWARDER_SERVICES, url)
        env = self._base_env(name)
        env.update(
            {
                "NSM_LISTEN_ON": url,
                "NSM_CONNECT_TO": connect_to,
                "NSM_TUNNEL_IP": node.address,
                "NODE_NAME": node.name,
            }
        )
        return self._start_reference(name, binaries.FORWARDER, node, env, FORWARDER_SERVICES)


class NSE:
    """An endpoint (``nsmcert-nse``, configured like upstream's cmd-nse-icmp-responder, spec
    §13.3) in a workload namespace, registered through the nsmgr of the workload's node."""

    def __init__(
        self,
        domain: ReferenceDomain,
        workload: str,
        *,
        name: Optional[str] = None,
        services: Sequence[str] = ("icmp-responder",),
        cidr: str = "169.254.0.0/16",
        labels: Optional[Mapping[str, str]] = None,
        payload: str = "ETHERNET",
        env: Optional[Mapping[str, str]] = None,
    ):
        self.domain = domain
        self.workload = domain.topology.workload(workload)
        self.name = name or workload
        self.services = list(services)
        self.url = f"unix://{domain.run_dir}/{self.name}.sock"
        self.process: Optional[_core.Process] = None
        self._env = domain._base_env(self.name)
        self._env.update(
            {
                "NSM_CONNECT_TO": domain.nsmgr_url(self.workload.node),
                "NSM_LISTEN_ON": self.url,
                "NSM_SERVICE_NAMES": ",".join(self.services),
                "NSM_CIDR_PREFIX": cidr,
                "NSM_LABELS": _labels(labels, ":"),
                "NSM_PAYLOAD": payload,
                "NSMCERT_LISTEN_REPORT": str(domain.run_dir / f"{self.name}.listen"),
            }
        )
        self._env.update(env or {})

    def start(self, timeout: Optional[float] = None) -> "NSE":
        """Starts the endpoint and waits until it serves NetworkService."""
        binary = binaries.require(binaries.NSE)
        self.process = self.domain.supervisor.start(
            self.name, [binary], env=self._env, netns=self.workload.netns.path
        )
        timeout = timeout or self.domain.startup_timeout
        report = Path(self._env["NSMCERT_LISTEN_REPORT"])
        urls = _wait_for_file(report, self.process, timeout).split()
        self.url = next((u for u in urls if u.startswith("unix://")), urls[0] if urls else self.url)
        self.process.wait_healthy(self.url, NSE_SERVICES, timeout=timeout)
        return self

    def stop(self, grace: float = 2.0) -> None:
        if self.process is not None and self.process.running:
            self.process.stop(grace)


class NSC:
    """A client (``nsmcert-nsc``, configured like upstream's cmd-nsc, spec §13.4) in a workload
    namespace, asking for ``services`` (NSURLs ``kernel://<service>/<interface>[?labels]``).

    :meth:`request` runs it once (``--oneshot``) and returns the connections it printed.
    :meth:`start` runs it as a daemon that keeps its connections (refresh, heal);
    :meth:`wait_connections` reads them from the nsmgr's monitor; :meth:`close` stops the daemon,
    which closes them.
    """

    def __init__(
        self,
        domain: ReferenceDomain,
        workload: str,
        services: Sequence[str] = ("kernel://icmp-responder/nsm-1",),
        *,
        name: Optional[str] = None,
        request_timeout: float = 15.0,
        env: Optional[Mapping[str, str]] = None,
    ):
        self.domain = domain
        self.workload = domain.topology.workload(workload)
        self.name = name or workload
        self.services = list(services)
        self.process: Optional[_core.Process] = None
        self._env = domain._base_env(self.name)
        self._env.update(
            {
                "NSM_CONNECT_TO": domain.nsmgr_url(self.workload.node),
                "NSM_NETWORK_SERVICES": ",".join(self.services),
                "NSM_REQUEST_TIMEOUT": f"{request_timeout}s",
            }
        )
        self._env.update(env or {})

    @property
    def connection_ids(self) -> List[str]:
        """The ids the client gives its connections: ``<name>-<i>`` per NSURL (spec §13.4)."""
        return [f"{self.name}-{i}" for i in range(len(self.services))]

    def request(self, timeout: float = 60.0) -> List[Connection]:
        """Runs ``nsmcert-nsc --oneshot`` in the workload namespace and returns the connections
        it printed (a JSON array). Raises NsmcertError with its output when it fails."""
        binary = binaries.require(binaries.NSC)
        ns = self.workload.netns.name
        env = {**os.environ, **self._env}
        result = subprocess.run(
            ["ip", "netns", "exec", ns, binary, "--oneshot"],
            env=env, capture_output=True, text=True, timeout=timeout,
        )
        log = self.domain.run_dir / f"{self.name}-oneshot.log"
        log.write_text(f"$ {binary} --oneshot\n{result.stdout}\n--- stderr ---\n{result.stderr}")
        if result.returncode != 0:
            raise _core.NsmcertError(
                f"{binaries.NSC} --oneshot in {ns} exited with {result.returncode}:\n"
                f"{result.stderr.strip()[-4000:]}"
            )
        try:
            parsed = json.loads(result.stdout)
        except json.JSONDecodeError as error:
            raise _core.NsmcertError(
                f"{binaries.NSC} --oneshot printed no JSON array ({error}):\n{result.stdout[-2000:]}"
            ) from None
        return [Connection(c) for c in parsed]

    def start(self) -> "NSC":
        """Starts the client as a daemon that requests and keeps its connections."""
        binary = binaries.require(binaries.NSC)
        self.process = self.domain.supervisor.start(
            self.name, [binary], env=self._env, netns=self.workload.netns.path
        )
        return self

    def wait_connections(self, timeout: float = 30.0) -> List[Connection]:
        """Waits until the nsmgr reports every connection of this client UP; returns them."""
        node = self.workload.node
        wanted = set(self.connection_ids)
        found: Dict[str, Connection] = {}
        with self.domain.monitor(node) as monitor:
            deadline = time.monotonic() + timeout
            while wanted - set(found):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process is not None and not self.process.running):
                    log = self.process.log_tail(20) if self.process is not None else ""
                    raise TimeoutError(
                        f"{self.name}: connections {sorted(wanted - set(found))} not UP within "
                        f"{timeout}s\n{log}"
                    )
                event = monitor.next(min(remaining, 1.0))
                for conn in map(Connection, connections_of(event or {})):
                    segments = conn.get("path", {}).get("path_segments", [])
                    first = segments[0].get("id", "") if segments else ""
                    if first in wanted and conn.state in ("UP", "", 0):
                        found[first] = conn
        return [found[i] for i in self.connection_ids]

    def close(self, grace: float = 5.0) -> None:
        """Stops the daemon (SIGTERM): it closes its connections on the way out."""
        if self.process is not None and self.process.running:
            self.process.stop(grace)


def domain_logs(domain: ReferenceDomain) -> Iterable[tuple]:
    """(name, log text) of every process of a domain, for reports."""
    for name, path in domain.log_paths().items():
        try:
            yield name, Path(path).read_text(errors="replace")
        except OSError:
            continue
