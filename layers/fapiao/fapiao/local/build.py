"""`make build`: the Lambda packages as `sam build` lays them out, and each function's
unzipped size checked against Lambda's limit.

template.yaml says what to build. Each layer built by its own Makefile (BuildMethod:
makefile) goes to ``.aws-sam/build/<LayerId>``, with ``ARTIFACTS_DIR`` set as `sam build`
sets it; a layer is built again only when a file of its ContentUri changed (a stamp holds
their digest), since its wheels come from PyPI. Each function's CodeUri is copied to
``.aws-sam/build/<FunctionId>``. Then one line per function: its layers (Globals' first,
then its own, as SAM merges lists), its code and code + layers in MB (MiB, Lambda's unit:
its 250 MB are 262,144,000 bytes), and whether that is within the limit. The command
fails when a function is over it.

With ``--measure-only`` nothing is built: the sizes are read from what `sam build` left
in the build folder (`make build` does that when the `sam` CLI is installed).
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fapiao.local.template import Template, TemplateError

# Lambda's quota on a function's unzipped deployment package, its layers included.
LAMBDA_UNZIPPED_LIMIT = 262_144_000
MIB = 1024 * 1024
# Left out of a layer's digest: what tools write next to the sources.
_NOT_SOURCES = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


@dataclass(frozen=True)
class Package:
    """What Lambda unpacks for one function: its CodeUri and its layers, in order."""

    function: str
    code_uri: Path  # relative to the template's folder
    layers: tuple[str, ...]  # logical ids


@dataclass(frozen=True)
class Row:
    function: str
    layers: tuple[str, ...]
    code_bytes: int
    total_bytes: int  # code and every layer
    limit: int = LAMBDA_UNZIPPED_LIMIT

    @property
    def within_limit(self) -> bool:
        return self.total_bytes <= self.limit


def _refs(items: Any, where: str) -> list[str]:
    """Logical ids of a Layers list; anything but !Ref (a published layer's ARN) cannot
    be measured here."""
    ids = []
    for item in items or []:
        if not (isinstance(item, dict) and isinstance(item.get("Ref"), str)):
            raise TemplateError(f"{where}: layer {item!r} is not a !Ref to a layer of the template")
        ids.append(item["Ref"])
    return ids


def packages(template: Template) -> list[Package]:
    """Every function's package. SAM appends a function's Layers to Globals' (lists add
    up: Globals first)."""
    shared = _refs(template.data.get("Globals", {}).get("Function", {}).get("Layers"), "Globals")
    found = []
    for function in template.functions:
        props = template.resources[function.logical_id].get("Properties", {})
        own = _refs(props.get("Layers"), function.logical_id)
        layers = tuple(dict.fromkeys(shared + own))
        for layer in layers:
            if template.resources.get(layer, {}).get("Type") != "AWS::Serverless::LayerVersion":
                raise TemplateError(f"{function.logical_id}: {layer} is not a layer")
        found.append(Package(function.logical_id, function.code_uri, layers))
    return found


def layer_sources(template: Template) -> dict[str, Path]:
    """Layer logical id -> its ContentUri (relative to the template), for the layers a
    Makefile builds."""
    sources = {}
    for layer_id, resource in template.resources.items():
        if resource.get("Type") != "AWS::Serverless::LayerVersion":
            continue
        method = (resource.get("Metadata") or {}).get("BuildMethod")
        if method != "makefile":
            raise TemplateError(f"{layer_id}: BuildMethod {method!r}; only makefile is built here")
        sources[layer_id] = Path(resource["Properties"]["ContentUri"])
    return sources


def tree_bytes(path: Path) -> int:
    """Bytes of the files under ``path``, as unzipped (links are not followed)."""
    if not path.exists():
        return 0
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def _source_files(source: Path) -> Iterable[Path]:
    for path in sorted(source.rglob("*")):
        parts = path.relative_to(source).parts
        if any(p in _NOT_SOURCES or p.endswith(".egg-info") for p in parts):
            continue
        if path.is_file():
            yield path


def sources_digest(source: Path) -> str:
    """SHA-256 over the relative path and bytes of every source file of a layer."""
    digest = hashlib.sha256()
    for path in _source_files(source):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_layer(layer_id: str, source: Path, build_dir: Path, pip: str) -> bool:
    """Run ``make build-<layer_id>`` in ``source`` into ``build_dir/<layer_id>``, unless
    the stamp says it was built from these very sources. True when it was built."""
    artifacts = build_dir / layer_id
    stamp = build_dir / ".stamps" / f"{layer_id}.sha256"
    digest = sources_digest(source)
    if artifacts.is_dir() and stamp.is_file() and stamp.read_text().strip() == digest:
        return False
    shutil.rmtree(artifacts, ignore_errors=True)
    stamp.unlink(missing_ok=True)
    artifacts.mkdir(parents=True)
    command = [
        "make",
        "--silent",
        "--no-print-directory",
        "-C",
        str(source),
        f"build-{layer_id}",
        f"ARTIFACTS_DIR={artifacts.resolve()}",
        f"PIP={pip}",
    ]
    subprocess.run(command, check=True)  # noqa: S603 - our own Makefile, arguments as a list
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest + "\n")
    return True


def bytecode_files(layer: Path) -> int:
    """How many .pyc files a layer holds: none means each cold start compiles what it
    imports (Lambda's /opt is read-only; layers/fapiao/Makefile explains)."""
    return sum(1 for _ in layer.rglob("*.pyc"))


def copy_function(package: Package, root: Path, build_dir: Path) -> None:
    """The function's CodeUri, as `sam build` copies it (bytecode left out)."""
    source = root / package.code_uri
    if (source / "requirements.txt").exists():
        # sam would pip-install it into the function; this build would under-count.
        raise TemplateError(f"{package.function}: {source} has a requirements.txt; use sam build")
    target = build_dir / package.function
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def measure(
    found: Sequence[Package], build_dir: Path, limit: int = LAMBDA_UNZIPPED_LIMIT
) -> list[Row]:
    layer_bytes: dict[str, int] = {}
    rows = []
    for package in found:
        for layer in package.layers:
            if layer not in layer_bytes:
                layer_bytes[layer] = tree_bytes(build_dir / layer)
        code = tree_bytes(build_dir / package.function)
        total = code + sum(layer_bytes[layer] for layer in package.layers)
        rows.append(Row(package.function, package.layers, code, total, limit))
    return rows


def _mb(size: int) -> str:
    return f"{size / MIB:.2f}"


def table(rows: Sequence[Row]) -> str:
    limit = rows[0].limit if rows else LAMBDA_UNZIPPED_LIMIT
    header = ("function", "layers", "code MB", "total MB", f"within {_mb(limit)} MB")
    lines = [
        (
            row.function,
            ", ".join(row.layers) or "-",
            _mb(row.code_bytes),
            _mb(row.total_bytes),
            "yes" if row.within_limit else "NO",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    out = []
    for line in [header, *lines]:
        cells = [
            cell.rjust(widths[i]) if i in (2, 3) else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fapiao.local.build", description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--build-dir", type=Path, default=Path(".aws-sam/build"))
    parser.add_argument("--measure-only", action="store_true", help="sizes of a sam build")
    parser.add_argument("--limit", type=int, default=LAMBDA_UNZIPPED_LIMIT, help="bytes")
    args = parser.parse_args(argv)

    template = Template(args.template)
    found = packages(template)
    if not args.measure_only:
        pip = f"{shlex.quote(sys.executable)} -m pip"
        for layer_id, source in layer_sources(template).items():
            built = build_layer(layer_id, template.root / source, args.build_dir, pip)
            size = _mb(tree_bytes(args.build_dir / layer_id))
            pyc = bytecode_files(args.build_dir / layer_id)
            print(
                f"{layer_id}: {size} MB, {pyc} bytecode files, "
                f"{'built' if built else 'unchanged, reused'}"
            )
        for package in found:
            copy_function(package, template.root, args.build_dir)
    rows = measure(found, args.build_dir, args.limit)
    print(table(rows))
    over = [row.function for row in rows if not row.within_limit]
    if over:
        print(f"over Lambda's limit of {args.limit:,} bytes unzipped: {', '.join(over)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
