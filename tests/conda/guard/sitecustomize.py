"""Keeps a job's Python to its own environment (tests/conda/README.md).

Loaded at start-up by every Python in an environment that the test suite's conda shim
activated (bin/activate puts this folder on PYTHONPATH and names the env in
$MERFLOW_ENV_GUARD). Snakemake appends its own site-packages to a script's sys.path (its
preamble imports ``snakemake`` from there), so a module missing from the environment would
silently come from Snakemake's installation: here it fails instead, naming the rule, the
environment file and the module. Code of Snakemake's installation may import what it likes.
"""

import atexit
import builtins
import json
import os
import sys
import sysconfig
from importlib.machinery import PathFinder

_ENV = os.environ.get("MERFLOW_ENV_GUARD")


def _under(path, folders):
    path = os.path.realpath(path)
    return any(path == f or path.startswith(f + os.sep) for f in folders)


class _Guard:
    def __init__(self, env):
        self.env = os.path.realpath(env)
        paths = sysconfig.get_paths()
        self.stdlib = [os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib")]

    def foreign(self, path):
        """A site-packages folder (or a file in one) outside the environment."""
        path = os.path.realpath(path)
        return not _under(path, [self.env]) and any(
            part in ("site-packages", "dist-packages") for part in path.split(os.sep)
        )

    def importer_is_foreign(self, frame):
        """Whether the code asking for an import lives in Snakemake's installation: the first
        caller outside the import system and the standard library decides."""
        while frame is not None:
            filename = frame.f_code.co_filename
            if (
                not filename.startswith("<frozen")
                and filename != __file__
                and not _under(filename, self.stdlib)
            ):
                return self.foreign(filename)
            frame = frame.f_back
        return False

    def error(self, name):
        rule = getattr(_job(), "rule", "?")
        message = (
            f"No module named {name!r} in the environment of rule {rule}: "
            f"{_env_file(self.env)} does not provide it (environment {self.env})"
        )
        return ModuleNotFoundError(message, name=name)

    # meta path finder: top-level imports by the env's own code look only outside foreign
    # site-packages
    def find_spec(self, name, path=None, target=None):
        if path is not None or name == "snakemake" or self.importer_is_foreign(sys._getframe(1)):
            return None
        allowed = [p for p in sys.path if not self.foreign(p or ".")]
        spec = PathFinder.find_spec(name, allowed, target)
        if spec is None:
            raise self.error(name)
        return spec


def _job():
    """The job's ``snakemake`` object, once Snakemake's preamble has made it."""
    return getattr(sys.modules.get("__main__"), "snakemake", None)


def _env_file(env):
    """The envs/*.yaml whose copy Snakemake left beside the env (``<env>.yaml``)."""
    copy = env + ".yaml"
    try:
        text = open(copy).read()
    except OSError:
        return copy
    for folder in os.environ.get("MERFLOW_GUARD_ENVS", "").split(os.pathsep):
        if folder and os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                candidate = os.path.join(folder, name)
                if name.endswith(".yaml") and open(candidate).read() == text:
                    return os.path.join(os.path.basename(folder), name)
    return copy


def _install(env):
    guard = _Guard(env)
    if os.path.realpath(sys.prefix) != guard.env:
        message = (
            f"merflow env guard: {sys.executable} runs inside the environment {env} but is not "
            f"its Python (prefix {sys.prefix})"
        )
        print(message, file=sys.__stderr__, flush=True)
        raise SystemExit(message)
    sys.meta_path.insert(
        next((i for i, f in enumerate(sys.meta_path) if f is PathFinder), len(sys.meta_path)),
        guard,
    )
    original = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        module = original(name, globals, locals, fromlist, level)
        top = name.partition(".")[0]
        if level == 0 and top != "snakemake":
            loaded = sys.modules.get(top)
            where = getattr(loaded, "__file__", None)
            # already imported from Snakemake's installation (by Snakemake itself): the env
            # lacks it, since the env's site-packages come first on sys.path
            if where and guard.foreign(where) and not guard.importer_is_foreign(sys._getframe(1)):
                raise guard.error(top)
        return module

    builtins.__import__ = guarded_import

    # optional imports (try: ... except ImportError) fail quietly, as without the guard; an
    # uncaught one also goes to Snakemake's output, beside the job's log
    previous_hook = sys.excepthook

    def excepthook(kind, value, traceback):
        if isinstance(value, ModuleNotFoundError) and "in the environment of rule" in str(value):
            print(f"merflow env guard: {value}", file=sys.__stderr__, flush=True)
        previous_hook(kind, value, traceback)

    sys.excepthook = excepthook
    if os.environ.get("MERFLOW_GUARD_LOG"):
        atexit.register(_record, guard)


def _record(guard):
    """One line per Snakemake job script run here: which rule ran with which Python."""
    snakemake = _job()
    if snakemake is None or not hasattr(snakemake, "rule"):
        return  # not a job script (a post-deploy script, python -c ...)
    line = json.dumps(
        {
            "rule": snakemake.rule,
            "env_file": _env_file(guard.env),
            "prefix": guard.env,
            "executable": sys.executable,
        }
    )
    with open(os.environ["MERFLOW_GUARD_LOG"], "a") as f:
        f.write(line + "\n")


if _ENV:
    _install(_ENV)
