"""Finding the nsmcert executables: the reference daemons and the ``nsmcert`` command.

The package does not ship the daemons; it finds them, in this order:

1. ``$NSMCERT_BIN_DIR``: directories separated by ``os.pathsep``. Each may hold the binaries
   directly, or be a CMake build directory of this repository (``build/default``), in which case
   the build layout (``reference/cmd/<role>/nsmcert-<role>``, ``conformance/nsmcert``) is searched.
2. ``PATH``.
3. ``build/default`` of the repository that contains the current directory (see
   :func:`nsmcert.paths.repository_root`), so that running from a checkout just works.

A daemon that is not found raises :class:`BinaryNotFound`, whose message says what to build or set;
the pytest plugin turns it into a skip with that reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator, Optional

from . import paths

REGISTRY = "nsmcert-registry"
NSMGR = "nsmcert-nsmgr"
FORWARDER = "nsmcert-forwarder"
NSE = "nsmcert-nse"
NSC = "nsmcert-nsc"
CLI = "nsmcert"

# Where each binary lands in a CMake build directory.
_BUILD_LAYOUT = {
    REGISTRY: "reference/cmd/registry",
    NSMGR: "reference/cmd/nsmgr",
    FORWARDER: "reference/cmd/forwarder",
    NSE: "reference/cmd/nse",
    NSC: "reference/cmd/nsc",
    CLI: "conformance",
}


class BinaryNotFound(FileNotFoundError):
    """An nsmcert executable is not built or not where the search looks."""


def _search_dirs(name: str) -> Iterator[Path]:
    for entry in os.environ.get("NSMCERT_BIN_DIR", "").split(os.pathsep):
        if entry:
            yield Path(entry)
            if name in _BUILD_LAYOUT:
                yield Path(entry) / _BUILD_LAYOUT[name]


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find(name: str) -> Optional[str]:
    """The absolute path of executable ``name``, or None."""
    for directory in _search_dirs(name):
        candidate = directory / name
        if _is_executable(candidate):
            return str(candidate.resolve())
    on_path = shutil.which(name)
    if on_path:
        return str(Path(on_path).resolve())
    root = paths.repository_root()
    if root is not None and name in _BUILD_LAYOUT:
        candidate = root / "build" / "default" / _BUILD_LAYOUT[name] / name
        if _is_executable(candidate):
            return str(candidate)
    return None


def require(name: str) -> str:
    """Like :func:`find`, but raises :class:`BinaryNotFound` explaining where it looked."""
    found = find(name)
    if found is None:
        where = _BUILD_LAYOUT.get(name, "")
        raise BinaryNotFound(
            f"{name} is not built or not found: build it (cmake --build --preset default"
            f"{' --target ' + name if where else ''}), put it on PATH, or point NSMCERT_BIN_DIR "
            f"at the directory holding it or at a CMake build directory"
        )
    return found


def daemon_dir() -> Optional[str]:
    """A directory to hand to the conformance runner as its ``--bin-dir``: the first
    ``$NSMCERT_BIN_DIR`` entry, else the directory of the ``nsmcert-registry`` found. None when
    there is none (the runner then looks next to its own executable)."""
    for entry in os.environ.get("NSMCERT_BIN_DIR", "").split(os.pathsep):
        if entry:
            return str(Path(entry).resolve())
    registry = find(REGISTRY)
    if registry is None:
        return None
    directory = Path(registry).parent
    # In a build tree, hand over the build directory itself (the runner knows its layout).
    if directory.name == "registry" and directory.parent.name == "cmd":
        return str(directory.parents[2])
    return str(directory)
