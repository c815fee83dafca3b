"""Running conformance cases from Python: the catalogue (the same cases as ``nsmcert run``) or
cases written in Python, against a manifest; and reading results.

A case written in Python::

    class PingAcrossNodes(nsmcert.Case):
        id = "PY-CONN-001"
        title = "A client reaches its endpoint across nodes"
        area = "connectivity"
        spec = "§14 B"

        def arrange(self, ctx):       # build what the case needs; keep it on self
            self.topo = nsmcert.Topology.build("two-node")
        def act(self, ctx):           # the stimulus
            ...
        def verify(self, ctx):        # the assert phase: raise CaseFailed / AssertionError
            assert ..., "what was expected, what was observed"

    results = nsmcert.run_cases("reference", "out/py", cases=[PingAcrossNodes])

A fresh instance runs each execution. Raising :class:`CaseFailed` or an AssertionError fails the
case, :class:`CaseSkipped` skips it, anything else is a harness error. Teardown belongs in
``close()`` (called after the last phase, whatever happened) or in ``with`` blocks inside phases.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

from . import _core, binaries, paths

ManifestLike = Union[_core.Manifest, "paths.PathLike"]


class Case:
    """Base class of a case written in Python. Set the class attributes; define any of
    ``arrange``, ``act``, ``verify`` (each takes a :class:`CaseContext`) and ``close``."""

    id: str = ""
    title: str = ""
    level: str = "MUST"  # MUST, SHOULD or MAY
    area: str = "connectivity"  # registry, connectivity, selection, context, monitor, heal, negative
    features: Sequence[str] = ()
    spec: str = ""
    profile: str = "core"
    timeout: float = 0.0  # seconds; 0 = the run's default

    @classmethod
    def definition(cls) -> _core.CaseDefinition:
        """The engine's view of this case (metadata checked here, with errors naming the case)."""
        return _core.CaseDefinition(
            _PhaseRunner.factory(cls),
            id=cls.id,
            title=cls.title,
            level=cls.level,
            area=cls.area,
            features=list(cls.features),
            spec=cls.spec,
            profile=cls.profile,
            timeout=float(cls.timeout),
        )


class _PhaseRunner:
    """Wraps a Case instance so that ``close()`` runs after the last phase that runs."""

    PHASES = ("arrange", "act", "verify")

    def __init__(self, case: Case):
        self._case = case
        self._closed = False

    @classmethod
    def factory(cls, case_class: type) -> Any:
        return lambda: cls(case_class())

    def _run(self, phase: str, ctx: _core.CaseContext) -> None:
        method = getattr(self._case, phase, None)
        try:
            if method is not None:
                method(ctx)
        except BaseException:
            self._close()
            raise
        if phase == "verify":
            self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            close = getattr(self._case, "close", None)
            if close is not None:
                close()

    def arrange(self, ctx: _core.CaseContext) -> None:
        self._run("arrange", ctx)

    def act(self, ctx: _core.CaseContext) -> None:
        self._run("act", ctx)

    def verify(self, ctx: _core.CaseContext) -> None:
        self._run("verify", ctx)

    def __del__(self) -> None:
        # A phase that returned early (timeout, cancelled run) still gets its teardown.
        try:
            self._close()
        except Exception:
            pass


def load_manifest(manifest: ManifestLike) -> _core.Manifest:
    """A Manifest from a Manifest, a path, or a name in fixtures/manifests (``"reference"``)."""
    if isinstance(manifest, _core.Manifest):
        return manifest
    return _core.load_manifest(str(paths.find_manifest(manifest)))


class Results:
    """The result of a run: ``results["REG-001"].status``, ``results.exit_code``, iteration over
    CaseResults, and the output directory with results.json, the reports and the bundle."""

    def __init__(self, run: _core.RunResult, out_dir: Optional[Union[str, "os.PathLike[str]"]] = None):
        self.run = run
        self.out_dir = Path(out_dir) if out_dir is not None else None

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Results":
        """Reads results.json, or the one inside a run's output directory."""
        path = Path(path)
        return cls(_core.load_results(str(path)), path if path.is_dir() else path.parent)

    @property
    def cases(self) -> List[_core.CaseResult]:
        return list(self.run.cases)

    def __iter__(self) -> Iterator[_core.CaseResult]:
        return iter(self.run.cases)

    def __len__(self) -> int:
        return len(self.run.cases)

    def __getitem__(self, case_id: str) -> _core.CaseResult:
        for result in self.run.cases:
            if result.id == case_id:
                return result
        raise KeyError(case_id)

    def statuses(self) -> Dict[str, str]:
        """Case id -> "pass", "fail", "skip", "n-a" or "error"."""
        return {result.id: result.status for result in self.run.cases}

    @property
    def exit_code(self) -> int:
        """0 every applicable MUST case passed, 1 the implementation failed, 2 the harness did."""
        return self.run.exit_code

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    @property
    def summary(self) -> dict:
        return self.run.summary

    def to_dict(self) -> dict:
        """results.json as a dict."""
        import json

        return json.loads(self.run.to_json())

    def __repr__(self) -> str:
        return f"<Results {len(self)} case(s), verdict {self.summary['verdict']}>"


def run_cases(
    manifest: ManifestLike,
    out_dir: Union[str, "os.PathLike[str]"],
    *,
    cases: Optional[Sequence[Any]] = None,
    profile: str = "core",
    filter: str = "",
    jobs: int = 1,
    timeout: float = 120.0,
    grace: float = 10.0,
    isolation: Optional[str] = None,
    executable: Optional[str] = None,
    bin_dir: Optional[str] = None,
    write_bundle: bool = True,
    console: bool = False,
) -> Results:
    """Runs cases against ``manifest`` and writes results.json, the reports and the bundle to
    ``out_dir``.

    ``cases``: Case subclasses or CaseDefinitions written in Python (they run in threads); None
    runs the catalogue, each case in its own ``nsmcert`` process when that binary is found
    (``isolation="process"``), else in threads. ``filter`` and ``profile`` select as on the
    command line. ``bin_dir``: where cases find the reference daemons (a directory or a CMake
    build directory; by default where :mod:`nsmcert.binaries` finds ``nsmcert-registry``).
    """
    loaded = load_manifest(manifest)
    definitions = None
    if cases is not None:
        definitions = [c.definition() if isinstance(c, type) else c for c in cases]
        if isolation is None:
            isolation = "thread"
    if isolation is None:
        executable = executable or binaries.find(binaries.CLI)
        isolation = "process" if executable else "thread"
    if isolation == "process" and not executable and definitions is None:
        executable = binaries.require(binaries.CLI)
    if bin_dir is None:
        bin_dir = binaries.daemon_dir() or ""
    run = _core.run_cases(
        loaded,
        os.fspath(out_dir),
        cases=definitions,
        profile=profile,
        filter=filter,
        jobs=jobs,
        timeout=timeout,
        grace=grace,
        isolation=isolation,
        executable=executable or "",
        bin_dir=bin_dir,
        write_bundle=write_bundle,
        console=console,
    )
    return Results(run, out_dir)


def list_cases(profile: str = "full", filter: str = "") -> List[dict]:
    """The catalogue's cases as dicts (id, title, level, area, features, spec, profile, timeout)."""
    return _core.list_cases(profile, filter)
