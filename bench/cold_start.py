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
import os
import statistics
import subprocess
import sys
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


# Issue 13's bounds: these two answer every request (or none), so they must be quick.
BOUNDS = {"AuthorizerFunction": 1.3, "HealthFunction": 1.3}
DEFAULT_BOUND = 2.0


def seconds_to_import(module: str, cwd: Path, env: dict[str, str]) -> float:
    """The wall time of `python -c "import module"` (interpreter start included)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], cwd=cwd, env=env, check=True)
    return time.perf_counter() - started


def folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
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
    print(f"{'function':<26} {'layers':<22} {'ms':>6} {'x boto3':>8} {'bound':>6}")
    for name, *_ in targets[1:]:
        props = resources[name]["Properties"]
        layers = ["FapiaoLayer", *(_text(ref, {}) for ref in props.get("Layers", []))]
        took = statistics.median(times[name])
        bound = BOUNDS.get(name, DEFAULT_BOUND)
        verdict = "ok" if took / boto3 <= bound else "OVER"
        print(
            f"{name:<26} {', '.join(layers):<22} {took * 1000:>6.0f} "
            f"{took / boto3:>8.2f} {bound:>5.1f}x {verdict}"
        )
    for name in ("FapiaoLayer", "OcrLayer"):
        built = BUILD / name
        if built.is_dir():
            print(f"{name} unzipped: {folder_mib(built):.1f} MiB ({built})")
        else:
            print(f"{name} unzipped: not built here (make build builds it)")


if __name__ == "__main__":
    main()
