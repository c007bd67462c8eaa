"""What each rule imports, traced statically, against what its conda environment holds.

A rule's script -> the modules it imports at module level, followed through ``merlib`` ->
the third-party distributions those imports need -> compared with the packages its
``envs/*.yaml`` (and ``envs/*.post-deploy.sh``) declare. Imports inside functions are lazy
on purpose (a backend used only by some configurations); the end-to-end run under
per-rule environments (tests/e2e/test_conda_envs.py) checks those that the demo executes.
"""

from __future__ import annotations

import ast
import re
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "workflow_scripts"
LIBRARY = "merlib"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def rule_envs() -> dict[str, tuple[str, str]]:
    """rule -> (script file name, env file name), from the snakefmt-formatted rules/*.smk;
    rules made in loops (``rule: name: ...``) share their template's script and env."""
    rules: dict[str, tuple[str, str]] = {}
    uses: list[tuple[str, str, str]] = []  # (template, new name, its with: block)
    for path in sorted((REPO / "rules").glob("*.smk")):
        text = path.read_text()
        for name, block in _rule_blocks(text):
            script = re.search(r"script:\s*\n\s*\"\.\./workflow_scripts/(\w+\.py)\"", block)
            env = re.search(_CONDA, block)
            if script and env:
                rules[name] = (script.group(1), env.group(1))
        # ``use rule a as b with: ...``: b runs a's script in a's env unless it names its own
        for use in re.finditer(r"^use rule (\w+) as (\w+)(.*?)(?=^\S|\Z)", text, re.M | re.S):
            uses.append(use.groups())
    for template, name, block in uses:
        if template in rules:
            env = re.search(_CONDA, block)
            rules[name] = (rules[template][0], env.group(1) if env else rules[template][1])
    return rules


_CONDA = r"conda:\s*\n\s*\"\.\./envs/([\w.-]+\.yaml)\""


def rules_drawing() -> set[str]:
    """Rules with a ``.png`` in their ``output:`` block: their scripts draw with matplotlib,
    which the library imports inside its functions (a lazy import the trace above skips)."""
    names = set()
    for path in sorted((REPO / "rules").glob("*.smk")):
        for name, block in _rule_blocks(path.read_text()):
            output = re.search(r"^\s+output:\n(.*?)(?=^\s+\w+:\s*$|\Z)", block, re.M | re.S)
            if output and ".png" in output.group(1):
                names.add(name)
    return names


def _rule_blocks(text: str):
    """``(name, body)`` of each named ``rule``/``checkpoint`` of a snakefmt-formatted file."""
    for block in re.split(r"^\s*(?:rule|checkpoint)\b", text, flags=re.M)[1:]:
        name = re.match(r"\s*(\w+)?\s*:", block)
        if name and name.group(1):
            yield name.group(1), block


def module_file(module: str) -> Path | None:
    """The file of a module of the library (package ``__init__.py`` or module ``.py``)."""
    base = SCRIPTS.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def eager_imports(path: Path, module: str, lazy: bool = False) -> set[str]:
    """Absolute names imported when ``path`` (module ``module``) is imported: module-level
    statements, class bodies and ``try`` blocks included; functions and
    ``if TYPE_CHECKING:`` excluded. ``from a import b`` yields ``a`` and ``a.b`` (``b`` may
    be a submodule; names that are not modules are dropped by the caller). ``lazy``: the
    imports inside functions too."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(nodes):
        for node in nodes:
            if not lazy and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(node, ast.If) and _is_type_checking(node):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1])
                    source = f"{base}.{node.module}" if node.module else base
                else:
                    source = node.module
                found.add(source)
                found.update(f"{source}.{alias.name}" for alias in node.names)
            visit(ast.iter_child_nodes(node))

    visit(ast.parse(path.read_text(), filename=str(path)).body)
    return found


@cache
def _closure_of(module: str, lazy: bool = False) -> frozenset[str]:
    """Third-party top-level modules that importing library ``module`` needs, eagerly (or,
    ``lazy``, that any of the library code it reaches may import)."""
    needed: set[str] = set()
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        # importing a.b.c runs a/__init__ and a/b/__init__ first
        parts = current.split(".")
        for i in range(1, len(parts)):
            todo.append(".".join(parts[:i]))
        path = module_file(current)
        if path is None:
            continue
        for name in eager_imports(path, current, lazy):
            top = name.partition(".")[0]
            if top == LIBRARY:
                if module_file(name) is not None:
                    todo.append(name)
            elif top not in sys.stdlib_module_names and top != "__future__":
                needed.add(top)
    return frozenset(needed)


def script_imports(script: str, lazy: bool = False) -> set[str]:
    """Third-party top-level modules the rule script needs, through the library (``lazy``:
    also those that functions of the code it reaches import when called)."""
    path = SCRIPTS / script
    needed: set[str] = set()
    for name in eager_imports(path, "__main__", lazy):
        top = name.partition(".")[0]
        if top == LIBRARY:
            if module_file(name) is not None:
                needed |= _closure_of(name, lazy)
        elif top not in sys.stdlib_module_names and top not in ("__future__", "snakemake"):
            needed.add(top)
    return needed


@cache
def module_distributions() -> dict[str, frozenset[str]]:
    """top-level module -> distributions (normalized) that provide it, read from the
    RECORD files (some wheels' top_level.txt is incomplete) of the development venv, which
    holds every package of every environment."""
    found: dict[str, set[str]] = {}
    folders = {Path(p) for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    for folder in folders:
        for info in folder.glob("*.dist-info"):
            record, meta = info / "RECORD", info / "METADATA"
            if not record.is_file() or not meta.is_file():
                continue
            name = re.search(r"^Name: (.+)$", meta.read_text(errors="replace"), re.M)
            tops = set(re.findall(r"^([^/,.][^/,]*?)(?:/|\.[^/,]*,)", record.read_text(), re.M))
            for top in tops:
                if not top.endswith((".dist-info", ".data")) and top != "__pycache__":
                    found.setdefault(top, set()).add(normalize(name.group(1).strip()))
    return {k: frozenset(v) for k, v in found.items()}


def env_packages(env: str) -> dict[str, str]:
    """Normalized name -> version of every pip package an env file (and its post-deploy
    script) declares."""
    spec = yaml.safe_load((REPO / "envs" / env).read_text())
    packages = {}
    for dep in spec["dependencies"]:
        if isinstance(dep, dict):
            for line in dep.get("pip", []):
                if m := PIN.match(line.strip()):
                    packages[normalize(m.group(1))] = m.group(2)
    return packages | post_deploy_packages(env)


def missing_by_rule() -> dict[str, list[tuple[str, str]]]:
    """rule -> [(module, env)] for every eagerly imported module whose distribution the
    rule's env does not declare."""
    providers = module_distributions()
    out: dict[str, list[tuple[str, str]]] = {}
    for rule, (script, env) in sorted(rule_envs().items()):
        declared = set(env_packages(env))
        for module in sorted(script_imports(script)):
            dists = providers.get(module, frozenset({normalize(module)}))
            if not dists & declared:
                out.setdefault(rule, []).append((module, env))
    return out


@cache
def requirements_of(distribution: str) -> frozenset[str]:
    """What an installed distribution requires (normalized; extras' needs left out)."""
    from packaging.requirements import Requirement

    try:
        lines = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return frozenset()
    names = set()
    for line in lines:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.add(normalize(requirement.name))
    return frozenset(names)


def dependency_closure(distributions) -> set[str]:
    todo, seen = list(distributions), set()
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(requirements_of(current))
    return seen


def unused_by_env() -> dict[str, list[str]]:
    """env -> declared distributions that no rule using it imports, even lazily, and that
    nothing imported (or installed by its post-deploy script) requires."""
    providers = module_distributions()
    rules = rule_envs()
    out = {}
    for env in sorted({env for _, env in rules.values()}):
        imported = set()
        for script, rule_env in rules.values():
            if rule_env == env:
                for module in script_imports(script, lazy=True):
                    imported |= providers.get(module, frozenset({normalize(module)}))
        declared = env_packages(env)
        explained = dependency_closure((imported | set(post_deploy_packages(env))) & set(declared))
        unused = sorted(set(declared) - explained)
        if unused:
            out[env] = unused
    return out


def post_deploy_packages(env: str) -> dict[str, str]:
    deploy = (REPO / "envs" / env).with_suffix(".post-deploy.sh")
    text = deploy.read_text() if deploy.is_file() else ""
    return {normalize(m[0]): m[1] for m in re.findall(r"([A-Za-z0-9_.\-]+)==(\S+)", text)}


def reasons(env: str) -> dict[str, str]:
    """Normalized name -> the comment on its pip line (why it is there)."""
    out = {}
    for line in (REPO / "envs" / env).read_text().splitlines():
        if m := re.match(r"^\s*-\s*([A-Za-z0-9_.\-]+)==\S+\s+#\s*(.+)$", line):
            out[normalize(m.group(1))] = m.group(2).strip()
    return out


if __name__ == "__main__":
    for env, unused in unused_by_env().items():
        print(f"envs/{env}: no rule imports {', '.join(unused)}")
    for rule, misses in missing_by_rule().items():
        for module, env in misses:
            print(f"rule {rule}: imports {module}, which envs/{env} does not declare")
