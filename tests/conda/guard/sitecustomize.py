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

    def allowed(self):
        return [p for p in sys.path if not self.foreign(p or ".")]

    # In sys.meta_path in place of PathFinder, which it calls: a top-level import by the
    # env's own code searches sys.path without the foreign site-packages. Not found is
    # None, as PathFinder says it (importlib.util.find_spec probes for optional modules).
    def find_spec(self, name, path=None, target=None):
        if path is None and name != "snakemake" and not self.importer_is_foreign(sys._getframe(1)):
            path = self.allowed()
        return PathFinder.find_spec(name, path, target)

    def find_distributions(self, context=None):
        """importlib.metadata's view: the env's distributions only, for the env's code."""
        from importlib.metadata import DistributionFinder

        context = context or DistributionFinder.Context()
        if context.path is sys.path and not self.importer_is_foreign(sys._getframe(1)):
            context = DistributionFinder.Context(name=context.name, path=self.allowed())
        return PathFinder.find_distributions(context)

    @staticmethod
    def invalidate_caches():
        PathFinder.invalidate_caches()


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
    sys.meta_path[:] = [guard if f is PathFinder else f for f in sys.meta_path]
    original = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        try:
            module = original(name, globals, locals, fromlist, level)
        except ModuleNotFoundError as missing:
            # name the rule and env (once, where the import failed), unless Snakemake's own
            # code asked: then it is not the env's business
            if "in the environment of rule" in str(missing) or missing.name is None:
                raise
            if guard.importer_is_foreign(sys._getframe(1)):
                raise
            raise guard.error(missing.name) from None
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
            "sys_prefix": os.path.realpath(sys.prefix),
        }
    )
    with open(os.environ["MERFLOW_GUARD_LOG"], "a") as f:
        f.write(line + "\n")


if _ENV:
    _install(_ENV)
