"""Per-rule environments: what each costs to build, and what a demo run costs in them.

    .venv/bin/python bench/conda_envs.py [--cache DIR] [--demo]

For each envs/*.yaml: the rules that name it, the seconds the test suite's conda
(tests/conda/shim.py: a uv virtualenv of exactly the file's pip list) takes to build it
into a fresh prefix (post-deploy script included) with the cache DIR as it is (run twice:
the first run fills a cold cache, the second shows the warm one), and the env's size
(apparent: uv hardlinks the files from its cache, so a warm build adds little on disk).
With --demo, also the small demo of tests/e2e/test_conda_envs.py (MER-NOISE included,
collection not) run twice in fresh folders: with `--use-conda` (envs built before the
clock starts) and in the .venv.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from env_imports import rule_envs

SHIM = REPO / "tests" / "conda"


def du(path: Path) -> str:
    args = ["du", "-sh", "--apparent-size", str(path)]
    return subprocess.run(args, capture_output=True, text=True).stdout.split()[0]


def build(env_file: Path, prefix: Path, cache: Path) -> float:
    env = {**os.environ, "MERFLOW_SHIM_PYTHON": sys.executable, "MERFLOW_ENV_CACHE": str(cache)}
    start = time.monotonic()
    cmd = [str(SHIM / "bin" / "conda"), "env", "create", "--file", str(env_file)]
    subprocess.run(cmd + ["--prefix", str(prefix)], check=True, env=env)
    deploy = env_file.with_suffix(".post-deploy.sh")
    if deploy.is_file():  # as Snakemake runs it: inside the activated env
        script = f"source {SHIM / 'bin' / 'activate'} {prefix}; bash {deploy}"
        subprocess.run(["bash", "-c", script], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def demo(cache: Path, use_conda: bool) -> float:
    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    import yaml
    from e2e_helpers import conda_shim_environment
    from test_conda_envs import OVERLAY

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "overlay.yaml").write_text(yaml.safe_dump(OVERLAY))
        cmd = [str(Path(sys.executable).with_name("snakemake")), "--snakefile"]
        cmd += [str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "2"]
        cmd += ["--configfile", str(REPO / "config.yaml"), str(workdir / "overlay.yaml")]
        env = None
        if use_conda:
            os.environ["MERFLOW_ENV_CACHE"] = str(cache)
            env = conda_shim_environment(workdir / "guard.jsonl")
            cmd += ["--use-conda", "--conda-prefix", str(cache / "conda")]
            # build first, so that only the run is timed
            subprocess.run(cmd + ["--conda-create-envs-only"], check=True, env=env)
        start = time.monotonic()
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "envs")
    parser.add_argument("--demo", action="store_true")
    args = parser.parse_args()
    rules = rule_envs()
    print(f"{'env':<14} {'build s':>8} {'size':>7}  rules")
    with tempfile.TemporaryDirectory(dir=args.cache.parent if args.cache.exists() else None) as t:
        for env_file in sorted((REPO / "envs").glob("*.yaml")):
            prefix = Path(t) / env_file.stem
            seconds = build(env_file, prefix, args.cache)
            users = sorted(r for r, (_, env) in rules.items() if env == env_file.name)
            line = f"{env_file.name:<14} {seconds:8.1f} {du(prefix):>7}  {', '.join(users)}"
            print(line, flush=True)
            shutil.rmtree(prefix)
    if args.demo:
        print(f"demo with --use-conda: {demo(args.cache, True):.0f} s", flush=True)
        print(f"demo in the .venv:     {demo(args.cache, False):.0f} s")


if __name__ == "__main__":
    main()
