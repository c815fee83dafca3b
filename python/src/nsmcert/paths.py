"""Where things are: the repository checkout (when running from one) and its fixtures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

PathLike = Union[str, "os.PathLike[str]"]


def repository_root(start: Optional[PathLike] = None) -> Optional[Path]:
    """The nsmcert checkout containing ``start`` (default: the current directory), or None.

    A directory counts when it holds ``CMakePresets.json`` and ``fixtures/topologies``.
    """
    here = Path(start or os.getcwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "CMakePresets.json").is_file() and (directory / "fixtures" / "topologies").is_dir():
            return directory
    return None


def topology_dirs() -> list:
    """Directories searched for topology files: ``$NSMCERT_TOPOLOGY_DIR`` (``os.pathsep``
    separated), then ``fixtures/topologies`` of the checkout."""
    dirs = [Path(p) for p in os.environ.get("NSMCERT_TOPOLOGY_DIR", "").split(os.pathsep) if p]
    root = repository_root()
    if root is not None:
        dirs.append(root / "fixtures" / "topologies")
    return dirs


def find_topology(name: PathLike) -> Path:
    """A topology file by path, or by name (``"two-node"`` finds ``two-node.yaml`` in
    :func:`topology_dirs`). Raises FileNotFoundError listing where it looked."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if path.is_file():
            return path
        raise FileNotFoundError(f"topology file {path} does not exist")
    searched = topology_dirs()
    for directory in searched:
        for suffix in (".yaml", ".yml"):
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    where = ", ".join(str(d) for d in searched) or "nowhere (set NSMCERT_TOPOLOGY_DIR)"
    raise FileNotFoundError(f"no topology named {name!r} in {where}")


def find_manifest(name: PathLike) -> Path:
    """A manifest by path, or by name in ``fixtures/manifests`` of the checkout."""
    path = Path(name)
    if path.is_file():
        return path
    root = repository_root()
    if root is not None:
        for suffix in ("", ".yaml", ".yml"):
            candidate = root / "fixtures" / "manifests" / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"no manifest {str(name)!r} (give a path, or run from a checkout)")
