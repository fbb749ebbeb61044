"""Run the generators an app developer runs on IRL's OpenAPI document: openapi-python-client
(a Python package, imported here) and openapi-typescript (a .d.ts file, compiled with tsc).
Nothing generated is kept in the repository: everything goes to a temporary directory."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.live import ROOT

VENV_BIN = Path(sys.executable).parent
NODE_BIN = ROOT / "node_modules" / ".bin"
PACKAGE = "irl_client"
USAGE = Path(__file__).with_name("usage.ts")
# strict, no emit: the generated types and the usage file must agree, nothing else runs
TSC_OPTIONS = (
    *("--noEmit", "--strict", "--exactOptionalPropertyTypes", "--noUncheckedIndexedAccess"),
    *("--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler"),
)


def write_document(document: dict, folder: Path) -> Path:
    """``document`` saved as ``openapi.json`` in ``folder``."""
    path = folder / "openapi.json"
    path.write_text(json.dumps(document, indent=1))
    return path


def generate_python(
    document: Path, folder: Path, package: str = PACKAGE
) -> subprocess.CompletedProcess:
    """openapi-python-client on ``document``, into the package ``folder/<package>``; a
    warning fails it (``--fail-on-warning``). Its post-hooks format the code with ruff."""
    command = [str(VENV_BIN / "openapi-python-client"), "generate", "--path", str(document)]
    command += ["--output-path", str(folder / package), "--meta", "none", "--fail-on-warning"]
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)


def import_python(folder: Path, package: str = PACKAGE) -> ModuleType:
    """The package generated in ``folder``, imported fresh (an earlier one is forgotten)."""
    for name in [name for name in sys.modules if name.split(".")[0] == package]:
        del sys.modules[name]
    sys.path.insert(0, str(folder))
    try:
        imported = importlib.import_module(package)
        importlib.import_module(f"{package}.models")
    finally:
        sys.path.remove(str(folder))
    return imported


def operation(package: ModuleType, tag: str, operation_id: str) -> ModuleType:
    """The generated module of one operation: ``api/<tag>/<operation id in snake case>``."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation_id)
    return importlib.import_module(f"{package.__name__}.api.{tag}.{snake}")


def generate_typescript(document: Path, output: Path) -> subprocess.CompletedProcess:
    """openapi-typescript on ``document``, writing ``output`` (a .d.ts module)."""
    command = [str(NODE_BIN / "openapi-typescript"), str(document), "--output", str(output)]
    # a default makes a field optional to send, not always there: ``required`` says that
    command += ["--default-non-nullable", "false"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def compile_usage(*types: Path) -> subprocess.CompletedProcess:
    """``tsc --noEmit`` on a copy of tests/clients/usage.ts beside each of ``types`` (it
    imports ``./irl-api``), all in one run; tsc names the file of each error."""
    usages = [path.with_name("usage.ts") for path in types]
    for usage in usages:
        usage.write_text(USAGE.read_text())
    command = [str(NODE_BIN / "tsc"), *TSC_OPTIONS, *map(str, usages)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def node_tools_missing() -> str | None:
    """Why the TypeScript tools cannot run here (``npm ci`` installs them), or None."""
    for tool in ("openapi-typescript", "tsc"):
        if not (NODE_BIN / tool).exists():
            return f"{NODE_BIN / tool} is missing: run npm ci (make test does)"
    return None
