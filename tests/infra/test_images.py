"""The Dockerfiles, their build context and entry point, and compose.yaml.

No Docker engine runs here, so the images are proven by lint and by replaying the Dockerfiles'
own dependency steps (the exact `uv` commands, on a copy of the build context that
.dockerignore lets through).
"""

from __future__ import annotations

import http.server
import ipaddress
import re
import shlex
import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from infra.toolbox import ROOT, run

pytestmark = pytest.mark.infra

SERVICE_DOCKERFILE = ROOT / "docker" / "Dockerfile"
FUNCTION_DOCKERFILE = ROOT / "functions" / "notify" / "Dockerfile"
DOCKERFILES = [SERVICE_DOCKERFILE, FUNCTION_DOCKERFILE]
PACKAGES = {  # workspace member -> a module its image must import
    "intake-api": "intake_api.main",
    "admin-api": "admin_api.main",
    "intake-ui": "intake_ui.main",
    "intake-notify": "intake_notify.worker",
}
OCI_LABELS = ("title", "description", "version", "revision", "created", "source", "licenses")


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def stages(dockerfile: Path) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = [[]]
    for keyword, rest in instructions(dockerfile):
        if keyword == "FROM":
            result.append([])
        result[-1].append((keyword, rest))
    return result[1:]


def dockerignore_allows(relative: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern also covers what is under it."""

    def to_regex(pattern: str) -> re.Pattern[str]:
        pattern = pattern.strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex += pattern[i : end + 1]
                i = end + 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        return re.compile(f"{regex}(?:/.*)?")

    allowed = True
    for raw in patterns:
        negate = raw.startswith("!")
        if to_regex(raw.removeprefix("!")).fullmatch(relative):
            allowed = negate
    return allowed


def build_context(target: Path) -> Path:
    """Copy what .dockerignore lets into the build context (tracked or not, like docker does)."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for top in ("pyproject.toml", "uv.lock", "libs", "services", "functions", "docker"):
        source = ROOT / top
        candidates = [source] if source.is_file() else source.rglob("*")
        for path in candidates:
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and dockerignore_allows(relative, patterns):
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target / relative)
    return target


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_context(tmp_path_factory.mktemp("context"))


def replay(
    dockerfile: Path,
    context: Path,
    workdir: Path,
    env: dict[str, str],
    paths: dict[str, str] | None = None,
) -> None:
    """Run the build stage's COPY and `uv` RUN steps in order, as docker would.

    ``paths`` moves the absolute paths the image writes to (e.g. /packages) into a temp folder.
    """
    build_stage = stages(dockerfile)[0]
    for keyword, rest in build_stage:
        if keyword == "COPY" and "--from" not in rest:
            *sources, dest = shlex.split(rest)
            for source in sources:
                src = context / source
                out = workdir / dest
                if src.is_dir():
                    shutil.copytree(src, out, dirs_exist_ok=True)
                else:
                    target = out / src.name if dest.endswith("/") else out
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, target)
        elif keyword == "RUN" and " uv " in f" {rest} ":
            command = re.sub(r"--mount=\S+", "", rest)
            command = command.replace("--python python3.11", f"--python {sys.executable}")
            for name, value in env.items():
                command = command.replace("${" + name + "}", value).replace("$" + name, value)
            for absolute, moved in (paths or {}).items():
                command = command.replace(absolute, moved)
            outside = [
                token
                for token in shlex.split(command)
                if token.startswith("/")
                and token != sys.executable
                and not token.startswith(str(workdir.parent))
            ]
            assert outside == [], f"the replay would write outside its temp folder: {command}"
            result = run(["bash", "-ec", command], cwd=workdir, env=env)
            assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


def uv_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON": sys.executable,
        "VIRTUAL_ENV": "",
        **extra,
    }


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_hadolint_clean(dockerfile: Path) -> None:
    result = run(["hadolint", "--failure-threshold", "info", dockerfile])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_final_stage_is_small_labelled_and_non_root(dockerfile: Path) -> None:
    *_, final = stages(dockerfile)
    keywords = [k for k, _ in final]
    runs = " ".join(rest for k, rest in final if k == "RUN")
    assert not re.search(r"\b(pip|uv|apt-get|apk|gcc|make)\b", runs), runs
    assert final[-1] != ("USER", "root")
    users = [rest for k, rest in final if k == "USER"]
    assert users and users[-1] == "10001:10001"
    labels = " ".join(rest for k, rest in final if k == "LABEL")
    for label in OCI_LABELS:
        assert f"org.opencontainers.image.{label}=" in labels, label
    assert "HEALTHCHECK" in keywords


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_base_images_are_pinned_to_a_patch_release(dockerfile: Path) -> None:
    args = dict(
        rest.split("=", 1) for k, rest in instructions(dockerfile) if k == "ARG" and "=" in rest
    )
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", args["PYTHON_IMAGE"])
    if "FUNCTIONS_IMAGE" in args:
        assert args["FUNCTIONS_IMAGE"] == "mcr.microsoft.com/azure-functions/python:4-python3.11"
    for keyword, rest in instructions(dockerfile):
        if keyword == "FROM":
            assert rest.split()[0] in ("${PYTHON_IMAGE}", "${FUNCTIONS_IMAGE}")


def test_dependencies_are_a_layer_before_the_source() -> None:
    build = stages(SERVICE_DOCKERFILE)[0]
    syncs = [i for i, (k, rest) in enumerate(build) if k == "RUN" and "uv sync" in rest]
    first_source = next(i for i, (k, rest) in enumerate(build) if k == "COPY" and "libs/ " in rest)
    assert len(syncs) == 2 and syncs[0] < first_source < syncs[1]
    assert "--frozen --no-dev" in build[syncs[0]][1]
    assert "--no-install-workspace" in build[syncs[0]][1]
    assert "--no-editable" in build[syncs[1]][1]
    copies_before = [rest for k, rest in build[: syncs[0]] if k == "COPY"]
    assert all("pyproject.toml" in c or "uv.lock" in c for c in copies_before)


def test_build_context_holds_only_what_images_need(context: Path) -> None:
    assert (context / "uv.lock").is_file()
    assert (context / "libs/intake-core/src/intake_core/__init__.py").is_file()
    assert (context / "functions/notify/function_app.py").is_file()
    assert (context / "docker/run-service.sh").is_file()
    assert list((context / "services/intake-ui/src/intake_ui/static").rglob("*.css"))
    files = {p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file()}
    leaked = [
        f
        for f in files
        if re.search(r"(^|/)(tests?|\.venv|\.data|node_modules|__pycache__|\.git)/", f)
        or f.endswith((".pyc", "local.settings.json"))
    ]
    assert leaked == []


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_service_image_dependency_steps_build(package: str, context: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = uv_env(tmp_path, PACKAGE=package, UV_PROJECT_ENVIRONMENT=str(venv))
    replay(SERVICE_DOCKERFILE, context, tmp_path / "src", env)
    # The final stage copies only the venv: the service must import from it alone.
    probe = f"import {PACKAGES[package]}, intake_core; print(intake_core.__file__)"
    result = run([venv / "bin" / "python", "-c", probe], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert str(venv) in result.stdout, "installed as a wheel, not an editable link to /src"
    others = set(PACKAGES.values()) - {PACKAGES[package]}
    for module in others:
        top = module.split(".")[0]
        assert not (venv / "lib" / "python3.11" / "site-packages" / top).exists(), top


def test_function_image_dependency_steps_build(context: Path, tmp_path: Path) -> None:
    site = tmp_path / "packages"
    moved = {"/packages": str(site), "/tmp/requirements.txt": str(tmp_path / "requirements.txt")}
    replay(FUNCTION_DOCKERFILE, context, tmp_path / "src", uv_env(tmp_path), moved)
    # The runtime stage copies /packages to the Functions worker's site-packages folder.
    assert (
        "COPY --from=build /packages /home/site/wwwroot/.python_packages/lib/site-packages"
        in FUNCTION_DOCKERFILE.read_text()
    )
    result = run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path[:0] = sys.argv[1:3];"
            " import function_app; print(type(function_app.app).__name__)",
            str(context / "functions" / "notify"),
            str(site),
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "FunctionApp"


# -- run-service, the entry point of every service image ----------------------------------------


def run_service(*args: str, **env: str) -> tuple[int, str]:
    result = run(
        ["sh", ROOT / "docker" / "run-service.sh", *args], env={"PATH": "/usr/bin:/bin", **env}
    )
    return result.returncode, result.stdout + result.stderr


def test_run_service_knows_every_package() -> None:
    script = (ROOT / "docker" / "run-service.sh").read_text()
    arms = set(re.findall(r"^\s+([a-z-]+)\)", script, re.M))
    assert arms == set(PACKAGES)


def test_run_service_refuses_an_unknown_service() -> None:
    code, output = run_service(SERVICE="billing")
    assert code == 64 and "unknown SERVICE" in output


@pytest.fixture
def health_server() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_service_healthcheck_follows_the_port(health_server: int) -> None:
    python_dir = str(Path(sys.executable).parent)
    path = f"{python_dir}:/usr/bin:/bin"
    assert (
        run_service("healthcheck", SERVICE="intake-api", PORT=str(health_server), PATH=path)[0] == 0
    )
    code, _ = run_service(
        "healthcheck", SERVICE="intake-notify", NOTIFY_METRICS_PORT=str(health_server), PATH=path
    )
    assert code == 0
    assert run_service("healthcheck", SERVICE="admin-api", PORT=str(free_port()), PATH=path)[0] != 0


# -- compose.yaml --------------------------------------------------------------------------------


def test_compose_intake_api_trusts_forwarded_addresses_from_the_ui_alone() -> None:
    # Otherwise every visitor of the form shares the UI's address, and one rate-limit bucket.
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    ui_address = services["intake-ui"]["networks"]["default"]["ipv4_address"]
    [subnet] = compose["networks"]["default"]["ipam"]["config"]
    assert ipaddress.ip_address(ui_address) in ipaddress.ip_network(subnet["subnet"])
    assert services["intake-api"]["environment"]["FORWARDED_ALLOW_IPS"] == ui_address
    assert services["intake-api"]["environment"]["INTAKE_DATA_DIR"] == "/data"


def test_compose_runs_the_images_hardened() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"intake-ui", "intake-api", "admin-api", "notify"}
    ports = {"intake-ui": 8000, "intake-api": 8001, "admin-api": 8002, "intake-notify": 8003}
    for name, svc in services.items():
        package = svc["build"]["args"]["PACKAGE"]
        assert package in PACKAGES, name
        assert svc["build"]["dockerfile"] == "docker/Dockerfile"
        assert svc["read_only"] is True and svc["cap_drop"] == ["ALL"]
        assert svc["user"] == "10001:10001"
        assert "no-new-privileges:true" in svc["security_opt"]
        assert "data:/data" in svc["volumes"]
        assert svc["ports"] == [f"127.0.0.1:{ports[package]}:{ports[package]}"]
        env = svc["environment"]
        assert env["INTAKE_API_URL"] == "http://intake-api:8001"
        assert env["INTAKE_DATA_DIR"] == "/data"
        assert not svc["image"].endswith(":latest")


def test_the_docs_name_the_port_variable_each_image_reads() -> None:
    """run-service reads PORT for the web services and NOTIFY_METRICS_PORT for the worker."""
    script = (ROOT / "docker" / "run-service.sh").read_text()
    ports = dict(
        re.findall(r"^\s+([\w-]+)\)\s+module=\S*\s+port=\"\$\{(\w+):-\d+\}\"", script, re.M)
    )
    assert ports == {
        "intake-ui": "PORT",
        "intake-api": "PORT",
        "admin-api": "PORT",
        "intake-notify": "NOTIFY_METRICS_PORT",
    }
    doc = " ".join((ROOT / "docs" / "deploy.md").read_text().split())
    assert "`PORT` overrides the port of the three web services" in doc
    assert "on `NOTIFY_METRICS_PORT` (default 8003) and ignores `PORT`" in doc
