"""The packages stand in layers and the imports obey them: no cycle between modules, no arrow upwards, and a
kiosk board runs without the server's dependencies."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each top-level package and what it may import (besides itself): lower layers only.
LAYERS: dict[str, set[str]] = {
    "firmware_config": set(),
    "hallcore": {"firmware_config"},
    "broker": {"firmware_config", "hallcore"},
    "kiosk": {"firmware_config", "hallcore", "broker"},
    "hallserver": {"firmware_config", "hallcore", "broker"},
    "city": {"firmware_config", "hallcore", "broker"},  # the city tier stands beside the hall server, never on it
    "hallq": {"firmware_config", "hallcore", "broker", "kiosk", "hallserver", "city"},
}
SERVER_ONLY = ("fastapi", "starlette", "sqlalchemy", "sqlmodel", "uvicorn", "alembic", "psycopg")


def _modules() -> dict[str, Path]:
    out = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules this module imports, anywhere in the file: in functions and in TYPE_CHECKING blocks too
    (an import hidden in a function or kept for types only is still an arrow of the design)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from pkg import submodule` imports the submodule; `from module import name` the module.
            targets = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def test_no_import_goes_up_a_layer() -> None:
    upward = sorted(
        f"{module} → {target}"
        for module, targets in _graph().items()
        for target in targets
        if (top := module.split(".")[0]) != (other := target.split(".")[0]) and other not in LAYERS[top]
    )
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


# Inside the server, lowest first: tables, domain services, then reporting and presentation. A module of one
# of these may import its own layer and those listed before it, and no other part of the server (views, api,
# gateway, live, console, the app and its settings all stand above them).
SERVER_LAYERS = ("models", "services", "presentation")


def test_server_layers_do_not_import_upwards() -> None:
    upward = []
    for module, targets in _graph().items():
        parts = module.split(".")
        if parts[0] != "hallserver" or len(parts) < 2 or parts[1] not in SERVER_LAYERS:
            continue
        allowed = set(SERVER_LAYERS[: SERVER_LAYERS.index(parts[1]) + 1])
        for target in targets:
            other = target.split(".")
            if other[0] == "hallserver" and len(other) > 1 and other[1] not in allowed:
                upward.append(f"{module} → {target}")
    assert not upward, "server imports against the layers:\n" + "\n".join(sorted(upward))


def test_no_import_cycle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, set())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_kiosk_and_core_import_without_the_server_dependencies() -> None:
    """Every kiosk, core, bus and profile module imports where the server's packages cannot be imported."""
    names = sorted(m for m in _modules() if m.split(".")[0] in ("kiosk", "hallcore", "broker", "firmware_config"))
    names = [m for m in names if m not in ("broker.tls", "broker.cli") and not m.endswith(".__main__")]
    script = f"""
import importlib, importlib.abc, sys
BLOCKED = {SERVER_ONLY!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is a server dependency")
        return None
sys.meta_path.insert(0, Block())
for name in {names!r}:
    importlib.import_module(name)
print(len({names!r}))
"""
    env = {**os.environ, "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) == len(names) > 100


def test_the_kiosk_extra_holds_no_server_dependency() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    board = [
        *project["dependencies"],
        *project["optional-dependencies"]["kiosk"],
        *project["optional-dependencies"]["ui"],
    ]
    names = {d.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in board}
    assert not names & {"fastapi", "uvicorn", "sqlmodel", "sqlalchemy", "alembic", "psycopg"}, names
