"""The Lambda packages: the OCR layer goes with exactly the functions whose handlers read
pictures, the others import without it, and `make build` measures packages right."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from fapiao.local import build
from fapiao.local.template import Template
from support import PROJECT_ROOT, TEMPLATE

LAYER_SOURCE = PROJECT_ROOT / "layers" / "fapiao"
OCR_REQUIREMENTS = [
    PROJECT_ROOT / "layers" / "ocr" / "requirements.txt",
    PROJECT_ROOT / "layers" / "ocr" / "requirements-nodeps.txt",
]
OCR_MODULE = "fapiao.recognize.ocr"  # the one module that loads the OCR packages
ROUTES = {"get", "post", "put", "patch", "delete", "route"}  # resolver decorators


# --- which handlers reach the OCR, read from the code -------------------------------
#
# A call graph over names: from a handler (and the routes its resolver dispatches to),
# every function and class its body names, through the shared layer's modules and their
# imports, top-level and in-function (the engine imports the OCR inside functions).
# It follows what the code names, not values: a method called on an object made
# elsewhere is not followed (no provider adapter reads pictures in process).

Binding = tuple[str, str | None]  # (module, attribute); attribute None: the module itself


@dataclass(frozen=True)
class _Scope:
    module: str
    defs: dict[str, ast.AST]  # top-level functions and classes
    bound: dict[str, Binding]  # top-level imports
    package: str  # for relative imports


def _module_path(name: str) -> Path | None:
    if name.split(".")[0] != "fapiao":
        return None
    base = LAYER_SOURCE.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(node: ast.AST | list[ast.stmt], package: str) -> dict[str, Binding]:
    bound: dict[str, Binding] = {}
    nodes = node if isinstance(node, list) else list(ast.walk(node))
    for child in nodes:
        if isinstance(child, ast.Import):
            for alias in child.names:
                if alias.asname:
                    bound[alias.asname] = (alias.name, None)
                else:
                    bound[alias.name.split(".")[0]] = (alias.name.split(".")[0], None)
        elif isinstance(child, ast.ImportFrom):
            module = child.module or ""
            if child.level:
                parent = package.rsplit(".", child.level - 1)[0]
                module = f"{parent}.{module}" if module else parent
            for alias in child.names:
                full = f"{module}.{alias.name}"
                binding = (full, None) if _module_path(full) else (module, alias.name)
                bound[alias.asname or alias.name] = binding
    return bound


@cache
def _scope(module: str, path: Path) -> _Scope:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defs: dict[str, ast.AST] = {
        n.name: n
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return _Scope(module, defs, _imports(tree.body, package), package)


class _Reach:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def name(self, module: str, name: str) -> bool:
        """Whether ``name``, defined or imported in ``module``, leads to the OCR."""
        path = _module_path(module)
        if module == OCR_MODULE:
            return True
        if path is None or (module, name) in self.seen:
            return False
        self.seen.add((module, name))
        scope = _scope(module, path)
        if name in scope.defs:
            return self.body(scope, scope.defs[name])
        return name in scope.bound and self.binding(scope.bound[name], [])

    def binding(self, binding: Binding, chain: list[str]) -> bool:
        """A bound name, then the attributes named on it (``ocr.read_text``)."""
        module, attribute = binding
        if attribute is not None:
            return self.name(module, attribute)
        for attr in chain:
            if module == OCR_MODULE:
                return True
            if _module_path(f"{module}.{attr}") is None:
                return self.name(module, attr)
            module = f"{module}.{attr}"
        return module == OCR_MODULE

    def body(self, scope: _Scope, node: ast.AST) -> bool:
        bound = {**scope.bound, **_imports(node, scope.package)}
        for child in ast.walk(node):
            chain: list[str] = []
            base = child
            while isinstance(base, ast.Attribute):
                chain.insert(0, base.attr)
                base = base.value
            if not isinstance(base, ast.Name):
                continue
            if base.id in bound:
                if self.binding(bound[base.id], chain):
                    return True
            elif base.id in scope.defs and (scope.module, base.id) not in self.seen:
                self.seen.add((scope.module, base.id))
                if self.body(scope, scope.defs[base.id]):
                    return True
        return False


def _is_route(node: ast.AST) -> bool:
    return isinstance(node, ast.FunctionDef) and any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTES
        for d in node.decorator_list
    )


def handler_reaches_ocr(code_dir: Path, handler: str) -> bool:
    """Whether a handler (``module.function`` in ``code_dir``), or a route its resolver
    dispatches to, names its way to the OCR module."""
    module, _, function = handler.rpartition(".")
    scope = _scope(str(code_dir / module), code_dir / f"{module}.py")
    roots = [function] + [name for name, node in scope.defs.items() if _is_route(node)]
    reach = _Reach()
    return any(reach.body(scope, scope.defs[root]) for root in roots)


@pytest.fixture(scope="module")
def template() -> Template:
    return Template(TEMPLATE)


def test_the_ocr_layer_goes_with_exactly_the_functions_that_read_pictures(
    template: Template,
) -> None:
    reading = {
        f.logical_id
        for f in template.functions
        if handler_reaches_ocr(template.root / f.code_uri, f.handler)
    }
    carrying = {p.function for p in build.packages(template) if "OcrLayer" in p.layers}
    # The analysis tells handlers of one module apart: the pipeline's recognize task
    # reads pictures, its create task (same app.py) does not.
    assert "RecognizeFunction" in reading
    assert "CreateTaskFunction" not in reading
    assert carrying == reading


def test_every_function_carries_the_shared_layer_first(template: Template) -> None:
    for package in build.packages(template):
        assert package.layers[0] == "FapiaoLayer", package


def _ocr_top_level_modules() -> set[str]:
    """Import names of the distributions the OCR layer installs, as installed here."""
    names = set()
    for requirements in OCR_REQUIREMENTS:
        for line in requirements.read_text(encoding="utf-8").splitlines():
            line = line.split("#")[0].strip()
            if line:
                names.add(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0])

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    wanted = {norm(n) for n in names}
    modules = {
        top
        for top, dists in packages_distributions().items()
        if any(norm(d) in wanted for d in dists)
    }
    assert {"cv2", "onnxruntime", "rapidocr_onnxruntime", "numpy"} <= modules
    return modules


_IMPORT_WITHOUT = """
import importlib.abc, importlib.util, json, sys
blocked = set(json.loads(sys.argv[1]))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"{name} is in the OCR layer")
        return None
sys.meta_path.insert(0, Block())
failed = {}
for i, (function, path) in enumerate(json.loads(sys.argv[2])):
    spec = importlib.util.spec_from_file_location(f"handler{i}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import does (dataclasses look it up)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        failed[function] = repr(error)
print(json.dumps(failed))
"""


def test_functions_without_the_ocr_layer_import_without_its_packages(
    template: Template,
) -> None:
    carrying = {p.function for p in build.packages(template) if "OcrLayer" in p.layers}
    handlers = [
        (f.logical_id, str(template.root / f.code_uri / f"{f.handler.rpartition('.')[0]}.py"))
        for f in template.functions
        if f.logical_id not in carrying
    ]
    assert handlers
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _IMPORT_WITHOUT,
            json.dumps(sorted(_ocr_top_level_modules())),
            json.dumps(handlers),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={"AWS_DEFAULT_REGION": "cn-north-1", "PATH": "/usr/bin:/bin"},
    )
    assert json.loads(result.stdout.splitlines()[-1]) == {}


# --- make build's sizes, on a tiny fake project (no pip, no network) ----------------

FAKE_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Layers:
      - !Ref SharedLayer
Resources:
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layers/shared}
    Metadata: {BuildMethod: makefile}
  BigLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layers/big}
    Metadata: {BuildMethod: makefile}
  PlainFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/plain/, Handler: app.handler}
  ReaderFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/reader/
      Handler: app.handler
      Layers:
        - !Ref BigLayer
"""

# Each build writes a file of {size} bytes and counts its runs next to the layer.
FAKE_MAKEFILE = """\
build-{layer}:
\tmkdir -p "$(ARTIFACTS_DIR)/python"
\thead -c {size} /dev/zero > "$(ARTIFACTS_DIR)/python/{layer}.bin"
\techo run >> "$(ARTIFACTS_DIR)/../runs-{layer}.txt"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(FAKE_TEMPLATE, encoding="utf-8")
    for folder, layer, size in (("shared", "SharedLayer", 1000), ("big", "BigLayer", 5000)):
        source = tmp_path / "layers" / folder
        source.mkdir(parents=True)
        (source / "Makefile").write_text(FAKE_MAKEFILE.format(layer=layer, size=size))
        (source / "requirements.txt").write_text("something==1\n")
    for name, body in (("plain", "x" * 100), ("reader", "y" * 300)):
        code = tmp_path / "functions" / name
        (code / "__pycache__").mkdir(parents=True)
        (code / "app.py").write_text(body)
        (code / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"z" * 10_000)
    return tmp_path


def _runs(project: Path, layer: str) -> int:
    runs = project / "out" / f"runs-{layer}.txt"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def test_a_function_package_is_its_code_and_its_layers_globals_first(project: Path) -> None:
    found = build.packages(Template(project / "template.yaml"))
    assert [(p.function, p.layers) for p in found] == [
        ("PlainFunction", ("SharedLayer",)),
        ("ReaderFunction", ("SharedLayer", "BigLayer")),
    ]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_build_measures_code_and_layers_and_fails_over_the_limit(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--template", str(project / "template.yaml"), "--build-dir", str(project / "out")]

    assert build.main([*args, "--limit", "6400"]) == 0
    rows = build.measure(
        build.packages(Template(project / "template.yaml")), project / "out", limit=6400
    )
    # Bytecode is not copied; each layer counts once per function that carries it.
    assert [(r.function, r.code_bytes, r.total_bytes, r.within_limit) for r in rows] == [
        ("PlainFunction", 100, 100 + 1000, True),
        ("ReaderFunction", 300, 300 + 1000 + 5000, True),
    ]
    out = capsys.readouterr().out
    assert re.search(r"ReaderFunction\s+SharedLayer, BigLayer\s+0\.00\s+0\.01\s+yes", out)

    # Over the limit by one byte: the table says so and the command fails.
    assert build.main([*args, "--limit", "6299", "--measure-only"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"ReaderFunction\s.*\bNO$", out, re.MULTILINE)
    assert "over Lambda's limit of 6,299 bytes unzipped: ReaderFunction" in out


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_layer_is_built_again_only_when_its_sources_change(project: Path) -> None:
    args = ["--template", str(project / "template.yaml"), "--build-dir", str(project / "out")]
    assert build.main(args) == 0
    assert build.main(args) == 0
    assert (_runs(project, "SharedLayer"), _runs(project, "BigLayer")) == (1, 1)

    (project / "layers" / "big" / "requirements.txt").write_text("something==2\n")
    assert build.main(args) == 0
    assert (_runs(project, "SharedLayer"), _runs(project, "BigLayer")) == (1, 2)


def _layer_site(root: Path) -> Path:
    """A layer's python/ folder in small: a third-party package with a data file, a
    module in Python 2 (compileall cannot compile it), and the hub's package."""
    site = root / "python"
    (site / "thirdparty").mkdir(parents=True)
    (site / "thirdparty" / "__init__.py").write_text(
        "import pathlib\nDATA = (pathlib.Path(__file__).parent / 'data.json').read_text()\n"
    )
    (site / "thirdparty" / "data.json").write_text('{"ok": true}')
    (site / "old.py").write_text("print 'python 2'\n")
    (site / "fapiao").mkdir()
    (site / "fapiao" / "__init__.py").write_text("")
    (site / "fapiao" / "mod.py").write_text("import thirdparty\nVALUE = thirdparty.DATA\n")
    return site


def _bytecode(site: Path, python: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(LAYER_SOURCE), "bytecode",
         f"SITE={site}", f"LAMBDA_PYTHON_BIN={python}",
         "LAMBDA_PYTHON={}.{}".format(*sys.version_info[:2])],
        capture_output=True, text=True, check=True,
    )  # fmt: skip


def test_the_layer_ships_bytecode_third_party_in_place_of_sources(tmp_path: Path) -> None:
    site = _layer_site(tmp_path)
    _bytecode(site, sys.executable)
    assert sorted(p.name for p in (site / "thirdparty").iterdir()) == ["__init__.pyc", "data.json"]
    assert (site / "old.py").exists()  # not compiled: its source stays
    assert (site / "fapiao" / "mod.py").exists()  # the hub's own: sources and bytecode
    assert list((site / "fapiao" / "__pycache__").glob("mod.*.pyc"))
    # read-only as in Lambda: nothing compiled or written at import
    imported = subprocess.run(
        [sys.executable, "-S", "-c", "import sys, fapiao.mod; print(fapiao.mod.VALUE);"
         "print(sys.modules['thirdparty'].__spec__.loader.__class__.__name__)"],
        env={"PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert imported.stdout.split() == ['{"ok":', "true}", "SourcelessFileLoader"]


def test_without_the_runtimes_python_the_layer_keeps_its_sources_and_says_so(
    tmp_path: Path,
) -> None:
    site = _layer_site(tmp_path)
    done = _bytecode(site, "python-not-here")
    assert "as python-not-here here" in done.stderr
    assert not list(site.rglob("*.pyc"))
    assert (site / "thirdparty" / "__init__.py").exists()
