"""A `conda` for the test suite: enough of conda's command line for `snakemake --use-conda`.

Every merflow environment is ``python=3.11`` + ``pip`` + a pinned pip list, so what conda
builds from an ``envs/*.yaml`` can be built without conda: a virtualenv of that Python with
exactly the file's pip packages (uv installs them, from pip's own configuration: its
indexes, find-links and constraints). Snakemake does the rest as with real conda: it hashes
the file into ``--conda-prefix``, calls ``conda env create --file ... --prefix ...``, runs
``envs/*.post-deploy.sh`` inside the env, and prefixes each job with
``source <conda>/bin/activate <env>``.

Commands: ``--version``, ``info --json``, ``config --get channel_priority --json``,
``env create --file F --prefix P``, ``clean --tarballs`` (nothing to do). Anything else
fails, naming the command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent  # what `conda info` calls conda_prefix: bin/activate
CONDA_VERSION = "24.7.1"  # Snakemake 9's minimum
UV_VERSION = "0.13.9"
PYTHON = "3.11"
PIN = re.compile(r"^[A-Za-z0-9_.\-]+(\[[\w,\-]+\])?==\S+$")
PIP_OPTIONS = ("--index-url", "--extra-index-url", "--find-links")


class EnvFileError(ValueError):
    """An environment file that conda would reject, or that this shim cannot build."""


def pip_requirements(spec: dict, name: str) -> tuple[list[str], list[str]]:
    """(pinned requirements, pip options) of an env file's content; raises EnvFileError
    naming the file and what is wrong. What conda needs: channels, ``python=3.11``, ``pip``
    and a ``pip:`` list. What merflow adds: no other conda package, every pip line pinned."""
    if not isinstance(spec, dict) or not isinstance(spec.get("dependencies"), list):
        raise EnvFileError(f"{name}: no `dependencies:` list")
    channels = spec.get("channels")
    if not isinstance(channels, list) or "conda-forge" not in channels:
        raise EnvFileError(f"{name}: `channels:` must list conda-forge, found {channels!r}")
    conda_deps = [d for d in spec["dependencies"] if not isinstance(d, dict)]
    pip_sections = [d["pip"] for d in spec["dependencies"] if isinstance(d, dict) and "pip" in d]
    if f"python={PYTHON}" not in conda_deps:
        raise EnvFileError(f"{name}: needs `python={PYTHON}` in dependencies, found {conda_deps}")
    if "pip" not in conda_deps:
        raise EnvFileError(f"{name}: a `pip:` section needs `pip` in dependencies")
    others = [d for d in conda_deps if d not in (f"python={PYTHON}", "pip")]
    if others:
        raise EnvFileError(f"{name}: conda packages {others}: merflow's envs are pip lists only")
    if len(pip_sections) != 1 or not isinstance(pip_sections[0], list) or not pip_sections[0]:
        raise EnvFileError(f"{name}: needs one non-empty `pip:` list")
    requirements, options = [], []
    for line in map(str, pip_sections[0]):
        if line.startswith(PIP_OPTIONS):
            options += line.split(None, 1) if " " in line else line.split("=", 1)
        elif PIN.match(line):
            requirements.append(line)
        else:
            raise EnvFileError(f"{name}: pip line {line!r} is not pinned (name==version)")
    return requirements, options


def pip_configuration() -> list[str]:
    """uv options for what pip would use here (pip.conf files and PIP_* variables), so that
    an env gets the wheels conda's pip would get: e.g. a local CPU build of torch."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    options: dict[str, str] = {}
    for m in re.finditer(r"^[\w:.]+?\.([\w-]+)='(.*)'$", out, re.M):
        options.setdefault(m.group(1), m.group(2))  # first listed wins: env, then files
    args = []
    for key, flag in (
        ("index-url", "--index-url"),
        ("extra-index-url", "--extra-index-url"),
        ("find-links", "--find-links"),
        ("constraint", "--constraint"),
    ):
        for value in options.get(key, "").split():
            args += [flag, value]
    return args


def cache_dir() -> Path:
    return Path(os.environ.get("MERFLOW_ENV_CACHE") or Path.home() / ".cache" / "merflow-envs")


def find_uv() -> str:
    """uv from $MERFLOW_UV, beside this Python, on PATH, or installed once into the cache."""
    for candidate in (
        os.environ.get("MERFLOW_UV"),
        str(Path(sys.executable).with_name("uv")),
        shutil.which("uv"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    tool = cache_dir() / f"uv-{UV_VERSION}"
    uv = tool / "bin" / "uv"
    if not uv.exists():
        subprocess.run([sys.executable, "-m", "venv", str(tool)], check=True)
        subprocess.run(
            [str(tool / "bin" / "python"), "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"],
            check=True,
        )
    return str(uv)


def base_python() -> str:
    """The Python 3.11 that environments are made of: $MERFLOW_ENV_PYTHON or this one's base."""
    python = os.environ.get("MERFLOW_ENV_PYTHON") or getattr(
        sys, "_base_executable", sys.executable
    )
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if version != PYTHON:
        raise EnvFileError(f"{python} is Python {version}; the envs ask for python={PYTHON}")
    return python


def create(env_file: Path, prefix: Path) -> None:
    start = time.monotonic()
    requirements, options = pip_requirements(yaml.safe_load(env_file.read_text()), str(env_file))
    uv = find_uv()
    run_env = {**os.environ, "UV_CACHE_DIR": str(cache_dir() / "uv")}
    subprocess.run(
        [uv, "venv", "--quiet", "--python", base_python(), str(prefix)], check=True, env=run_env
    )
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(prefix / "bin" / "python"),
            # pip's choice among indexes: the best match anywhere (torch 2.13.0+cpu from a
            # find-links folder beats PyPI's 2.13.0), not uv's first index that has the name
            "--index-strategy",
            "unsafe-best-match",
            *pip_configuration(),
            *options,
            "pip",  # conda's `pip` (a post-deploy script calls `python -m pip`)
            *requirements,
        ],
        check=True,
        env=run_env,
    )
    record = {"seconds": round(time.monotonic() - start, 1), "requirements": requirements}
    (prefix / "merflow-env.json").write_text(json.dumps(record, indent=1) + "\n")


def main(argv: list[str]) -> int:
    if argv == ["--version"]:
        print(f"conda {CONDA_VERSION}")
    elif argv[:2] == ["info", "--json"]:
        print(json.dumps({"conda_prefix": str(ROOT), "platform": "linux-64",
                          "conda_version": CONDA_VERSION}))  # fmt: skip
    elif argv[:3] == ["config", "--get", "channel_priority"]:
        print(json.dumps({"get": {"channel_priority": "strict"}, "success": True}))
    elif argv[:1] == ["clean"] and set(argv[1:]) <= {"-y", "--yes", "--tarballs", "--packages"}:
        # --conda-cleanup-pkgs (profiles/default): conda drops its downloaded tarballs; uv
        # keeps unpacked wheels in the shared cache, which is what makes rebuilds quick
        print("merflow conda shim: nothing to clean (uv's cache is kept on purpose)")
    elif argv[:2] == ["env", "create"]:
        args = {}
        rest = iter(argv[2:])
        for arg in rest:
            key, _, value = arg.partition("=")
            if key in ("--file", "-f", "--prefix", "-p"):
                args[key.lstrip("-")[0]] = value or next(rest, "")
        if set(args) != {"f", "p"}:
            print(
                f"merflow conda shim: env create needs --file and --prefix: {argv}", file=sys.stderr
            )
            return 2
        try:
            create(Path(args["f"]), Path(args["p"]))
        except (EnvFileError, subprocess.CalledProcessError) as e:
            print(f"merflow conda shim: {e}", file=sys.stderr)
            return 1
    else:
        print(f"merflow conda shim: `conda {' '.join(argv)}` is not supported", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
