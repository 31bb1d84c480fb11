"""webapp/ uses only the public API of the libraries it builds on (issue 14).

A private attribute (a name starting with one underscore) of Flask, Werkzeug, Flask-Limiter,
limits, Flask-WTF, Flask-SQLAlchemy, SQLAlchemy or Flask-Login may change in any release and
stop `create_app` in every worker. This reads every module of webapp/ and fails on:

- ``something._name`` where ``something`` is not ``self``/``cls``: their objects, their
  modules (and, by the same rule, anyone else's);
- in a class of ours extending one of their classes: ``self._name`` that the class does not
  define itself (the base's private state), and a method ``_name`` that the base has too
  (overriding a private hook, as ``_query_count`` did);
- ``getattr``/``hasattr``/``setattr`` with a literal private name, and a ``__qualname__``
  compared with a library's ``<locals>`` (reaching a closure by its name).

Our own private helpers (``_name`` functions, module globals, ``self._x`` of our classes)
are fine: only an attribute reached through a dot on someone else's object is checked.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"
LIBRARIES = ("flask", "werkzeug", "flask_limiter", "limits", "flask_wtf", "flask_sqlalchemy",
             "sqlalchemy", "flask_login", "wtforms")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _library_names(tree: ast.Module) -> set[str]:
    """The names a module imported from the libraries (modules and classes alike)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module \
                and node.module.split(".")[0] in LIBRARIES:
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names
                         if alias.name.split(".")[0] in LIBRARIES)
    return names


def _base_name(base: ast.expr) -> str:
    while isinstance(base, ast.Attribute | ast.Subscript):
        base = base.value
    return base.id if isinstance(base, ast.Name) else ""


def _imported_bases(tree: ast.Module) -> dict[str, object]:
    """The library classes a module imported, by the name it uses for them."""
    found: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module \
                and node.module.split(".")[0] in LIBRARIES:
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if isinstance(value, type):
                    found[alias.asname or alias.name] = value
    return found


def _own_names(cls: ast.ClassDef) -> set[str]:
    """What a class defines itself: its methods and the attributes it assigns on self."""
    names = {item.name for item in cls.body
             if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)}
    for node in ast.walk(cls):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.value, ast.Name) and node.value.id == "self":
            names.add(node.attr)
    return names


def violations(source: str, filename: str) -> list[str]:
    """Every private reach into a library in ``source``, as 'file:line: what'."""
    tree = ast.parse(source, filename)
    library = _library_names(tree)
    bases = _imported_bases(tree)
    found: list[str] = []
    # In a class extending a library class, self._x is ours only if the class defines it, and
    # a method of ours must not take the name of one of the base's private ones.
    extending: dict[ast.AST, set[str]] = {}
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        parents = [bases[name] for base in cls.bases
                   if (name := _base_name(base)) in library and name in bases]
        if not any(_base_name(base) in library for base in cls.bases):
            continue
        own = _own_names(cls)
        for node in ast.walk(cls):
            extending[node] = own
        for item in cls.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _private(item.name) \
                    and any(hasattr(parent, item.name) for parent in parents):
                found.append(f"{filename}:{item.lineno}: {cls.name} overrides {item.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            is_self = isinstance(owner, ast.Name) and owner.id in {"self", "cls"}
            ours = is_self and (node not in extending or node.attr in extending[node])
            if not ours:
                found.append(f"{filename}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in {"getattr", "hasattr", "setattr", "delattr"} \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and isinstance(node.args[1].value, str) and _private(node.args[1].value):
            found.append(f"{filename}:{node.lineno}: {node.func.id}(..., "
                         f"{node.args[1].value!r})")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and "<locals>" in node.value:
            found.append(f"{filename}:{node.lineno}: a closure reached by name {node.value!r}")
    return found


def test_webapp_reaches_into_no_library():
    found = [hit for path in sorted(WEBAPP.rglob("*.py"))
             for hit in violations(path.read_text(), str(path.relative_to(WEBAPP.parent)))]
    assert found == []


@pytest.mark.parametrize("source", [
    "from flask_limiter import Limiter\nLimiter._check_request_limit\n",
    "from webapp.extensions import limiter\nlimiter._meta_limits\n",
    "def f(compiled):\n    return compiled.positiontup._x\n",
    "from limits.storage import MemoryStorage\n"
    "class Quiet(MemoryStorage):\n    def _MemoryStorage__schedule_expiry(self):\n        pass\n",
    "from flask_sqlalchemy.pagination import SelectPagination\n"
    "class P(SelectPagination):\n    def count(self):\n        return self._query_args\n",
    "x = getattr(Limiter, '_Limiter__inject_headers', None)\n",
    "ok = hook.__qualname__ == 'CSRFProtect.init_app.<locals>.csrf_protect'\n",
    "from flask_login import current_user\nuser = current_user._get_current_object()\n",
], ids=["class", "object", "any-object", "override", "inherited-self", "getattr", "qualname",
        "proxy"])
def test_the_check_catches_each_kind_of_reach(source):
    assert violations(source, "example.py") != []


def test_our_own_private_names_are_fine():
    source = ("from flask_wtf import FlaskForm\n"
              "class Ours:\n    def __init__(self):\n        self._cache = {}\n"
              "    def _helper(self):\n        return self._cache\n"
              "class Form(FlaskForm):\n    def _field_for(self, name):\n        return name\n"
              "    def check(self):\n        return self._field_for('x')\n"
              "def _module_helper():\n    return Ours.__name__\n")
    assert violations(source, "example.py") == []
