"""Cold start of each Lambda handler: a whole Python process importing the handler's
module, as a fresh Lambda container does, against `import boto3` timed in the same run.

    .venv/bin/python bench/cold_start.py [--runs N]

Each function of template.yaml is imported from its CodeUri folder, with the shared
layer (and the OCR layer where the template attaches it) on the path, the template's
environment variables (a !Ref becomes its logical id) and those Lambda sets, tracing
on as in Lambda (LAMBDA_TASK_ROOT set: Tracer patches what it patches there). The runs
are interleaved (boto3, every handler; again), so a busy machine slows all alike.
Prints the median of N runs per handler, its ratio to `import boto3`, the issue's
bound (1.3x for the authorizer and health, 2x for the rest), and the layers' unzipped
sizes when `make build` has built them (.aws-sam/build). Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"


def _text(value: Any, parameters: dict[str, Any]) -> str:
    """An environment value of the template as Lambda would see it: a Ref to a parameter
    is its default, to a resource its logical id."""
    if isinstance(value, dict):
        inner = next(iter(value.values()), "")
        name = str(inner[0] if isinstance(inner, list) else inner)
        return str(parameters.get(name, {}).get("Default", name))
    return str(value)


# Lambda gives a function CPU in proportion to its memory, one vCPU at 1,769 MB. The
# memory printed for each function is the least (in 64 MB steps) at which its cold
# import, as measured here on one core, takes at most TARGET_SECONDS: template.yaml's
# MemorySize values come from it (and from the RSS, which is far below any of them).
FULL_CPU_MB = 1769
TARGET_SECONDS = 0.5

# Issue 13's bounds: these two answer every request (or none), so they must be quick.
BOUNDS = {"AuthorizerFunction": 1.3, "HealthFunction": 1.3}
DEFAULT_BOUND = 2.0


def seconds_to_import(module: str, cwd: Path, env: dict[str, str]) -> float:
    """The wall time of `python -c "import module"` (interpreter start included)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], cwd=cwd, env=env, check=True)
    return time.perf_counter() - started


def rss_mib(module: str, cwd: Path, env: dict[str, str]) -> float:
    """The peak resident memory of a process that imported ``module``."""
    code = f"import resource, {module}; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[-1]) / 1024


def memory_for(seconds: float) -> int:
    """The least memory (64 MB steps) whose CPU share imports in TARGET_SECONDS."""
    needed = FULL_CPU_MB * seconds / TARGET_SECONDS
    return max(128, -(-int(needed) // 64) * 64)


def folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--bytecode",
        metavar="FUNCTION",
        default="VerifyFunction",
        help="also time this function's import from a copy of what it loads, as a layer "
        "ships it: sources only (Lambda's /opt is read-only: compiled at every cold "
        "start), then with bytecode as layers/*/Makefile makes it ('' to skip)",
    )
    args = parser.parse_args()

    from fapiao.local.template import Template, load_template

    template = Template(ROOT / "template.yaml")
    loaded = load_template(ROOT / "template.yaml")
    resources, parameters = loaded["Resources"], loaded.get("Parameters", {})
    base = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "cn-north-1",
        "AWS_DEFAULT_REGION": "cn-north-1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "LAMBDA_TASK_ROOT": str(ROOT),  # Powertools Tracer: "in Lambda", so tracing is on
    }
    layer = str(ROOT / "layers" / "fapiao")
    # (name, module, folder, environment): import boto3 first, then each handler once
    targets = [("import boto3", "boto3", ROOT, {**base, "PYTHONPATH": layer})]
    seen: set[tuple[Path, str]] = set()
    for function in template.functions:
        module = function.handler.split(".")[0]
        if (function.code_uri, module) in seen:
            continue
        seen.add((function.code_uri, module))
        env = {
            **base,
            **{name: _text(v, parameters) for name, v in function.environment.items()},
            "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
            "PYTHONPATH": layer,
        }
        targets.append((function.logical_id, module, ROOT / function.code_uri, env))
    times: dict[str, list[float]] = {name: [] for name, *_ in targets}
    for _ in range(args.runs):
        for name, module, folder, env in targets:
            times[name].append(seconds_to_import(module, folder, env))
    boto3 = statistics.median(times["import boto3"])
    print(f"import boto3: {boto3 * 1000:.0f} ms (median of {args.runs}, interleaved)")
    print(
        f"{'function':<26} {'layers':<22} {'ms':>6} {'x boto3':>8} {'bound':>6}     "
        f"{'RSS MiB':>7} {'MB for 0.5 s':>12}"
    )
    for name, module, folder, env in targets[1:]:
        props = resources[name]["Properties"]
        layers = ["FapiaoLayer", *(_text(ref, {}) for ref in props.get("Layers", []))]
        took = statistics.median(times[name])
        bound = BOUNDS.get(name, DEFAULT_BOUND)
        verdict = "ok" if took / boto3 <= bound else "OVER"
        print(
            f"{name:<26} {', '.join(layers):<22} {took * 1000:>6.0f} "
            f"{took / boto3:>8.2f} {bound:>5.1f}x {verdict:<4} "
            f"{rss_mib(module, folder, env):>7.0f} {memory_for(took):>12}"
        )
    if args.bytecode:
        name, module, folder, env = next(t for t in targets if t[0] == args.bytecode)
        bytecode_figures(name, module, folder, env, args.runs)
    for name in ("FapiaoLayer", "OcrLayer"):
        built = BUILD / name
        if built.is_dir():
            print(f"{name} unzipped: {folder_mib(built):.1f} MiB ({built})")
        else:
            print(f"{name} unzipped: not built here (make build builds it)")


def _NO_BYTECODE(folder: str, names: list[str]) -> set[str]:  # noqa: N802
    """What a layer does not ship: bytecode of this interpreter, the local hub."""
    local = {"local"} if Path(folder).name == "fapiao" else set()
    return {n for n in names if n == "__pycache__" or n.endswith(".pyc")} | local


def bytecode_figures(name: str, module: str, folder: Path, env: dict[str, str], runs: int) -> None:
    """The function's import from a copy of the files it loads outside the standard
    library (the layer's part), without bytecode and then compiled as the layer
    Makefiles compile: the hub's package with its sources, the rest bytecode only."""
    code = (
        f"import json, sys, {module}; "
        "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    roots = [Path(p).resolve() for p in sys.path if "site-packages" in p] + [
        ROOT / "layers" / "fapiao"
    ]
    with tempfile.TemporaryDirectory() as temp:
        layer = Path(temp) / "python"
        for file in json.loads(found.stdout.splitlines()[-1]):
            if not file:
                continue
            path = Path(file).resolve()
            if path.is_relative_to(stdlib) and "site-packages" not in path.parts:
                continue
            root = next((r for r in roots if path.is_relative_to(r)), None)
            if root is None:
                continue
            top = path.relative_to(root).parts[0]  # its package, data files and all
            if not (layer / top).exists():
                if (root / top).is_dir():
                    shutil.copytree(root / top, layer / top, ignore=_NO_BYTECODE)
                else:
                    layer.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(root / top, layer / top)
        # what a layer holds, nothing else: no site-packages, no bytecode written
        bare = {**env, "PYTHONPATH": str(layer), "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-S", "-c", f"import {module}"]

        def median(run_env: dict[str, str]) -> float:
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                subprocess.run(command, cwd=folder, env=run_env, check=True)
                times.append(time.perf_counter() - started)
            return statistics.median(times)

        sources_only = median(bare)
        subprocess.run(
            [
                "make",
                "--no-print-directory",
                "-C",
                str(ROOT / "layers" / "fapiao"),
                "bytecode",
                f"SITE={layer}",
                f"LAMBDA_PYTHON_BIN={sys.executable}",
                "LAMBDA_PYTHON={}.{}".format(*sys.version_info[:2]),
            ],
            check=True,
        )
        compiled = median(bare)
    print(
        f"{name} from a layer copy: sources only {sources_only * 1000:.0f} ms (compiled at "
        f"every cold start), with the layer's bytecode {compiled * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
