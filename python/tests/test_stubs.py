"""The type stubs describe the extension module as built: same names, same members."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import nsmcert
from nsmcert import _core

STUB = Path(nsmcert.__file__).with_name("_core.pyi")


def stub_names():
    tree = ast.parse(STUB.read_text())
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
        if isinstance(node, ast.ClassDef):
            names = set()
            for base in node.bases:
                if isinstance(base, ast.Name):
                    names |= members.get(base.id, set())
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    names.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
            members[node.name] = names
    return top, members


def test_stub_lists_every_public_name():
    top, _ = stub_names()
    module = {name for name in dir(_core) if not name.startswith("_")} | {"__version__"}
    aliases = {"NetnsLike", "FieldValue"}  # typing helpers of the stub
    assert module == top - aliases


def test_stub_lists_every_member_of_every_class():
    _, members = stub_names()
    for name, stubbed in members.items():
        cls = getattr(_core, name)
        if issubclass(cls, BaseException):
            continue
        actual = {
            member
            for member, _ in inspect.getmembers(cls)
            if not member.startswith("_")
        }
        assert actual == {m for m in stubbed if not m.startswith("_")}, name
