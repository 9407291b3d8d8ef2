"""docker-compose.yml and docker/start.sh, checked without a Docker engine.

The compose file is validated against the Compose Specification's JSON schema
as vendored by check-jsonschema, with the validator class that the schema's
``$schema`` declares; then the few facts the demo depends on are checked, and
the start script is syntax-checked with ``sh -n``.
"""

import copy
import importlib.resources
import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
START_SCRIPT = ROOT / "docker" / "start.sh"
ADDONS = ROOT / "addons"
SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
SCHEMA_FILE = "compose-spec.json"


@pytest.fixture(scope="module")
def compose():
    with COMPOSE_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(importlib.resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema, default=None)
    assert cls is not None, f"jsonschema knows no validator for $schema {schema.get('$schema')!r}"
    # The class must be the one the schema declares, not a fallback.
    assert cls.META_SCHEMA["$id"].rstrip("#") == schema["$schema"].rstrip("#")
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def script():
    return START_SCRIPT.read_text(encoding="utf-8")


def _errors(validator, data):
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(data)]


def _environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: None if value is None else str(value) for key, value in env.items()}


def _mounts(service):
    """(source, target, read_only) of each entry of ``volumes``, short or long syntax."""
    mounts = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            mounts.append((entry.get("source"), entry["target"], bool(entry.get("read_only"))))
            continue
        parts = entry.split(":")
        if len(parts) == 1:
            mounts.append((None, parts[0], False))
        else:
            options = parts[2].split(",") if len(parts) > 2 else []
            mounts.append((parts[0], parts[1], "ro" in options))
    return mounts


def _published_ports(service):
    """(published, target) pairs of ``ports``, short or long syntax."""
    pairs = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            pairs.append((str(entry.get("published")), str(entry["target"])))
            continue
        parts = str(entry).partition("/")[0].split(":")
        if len(parts) >= 2:
            pairs.append((parts[-2], parts[-1]))
    return pairs


def _suite_addons():
    return {manifest.parent.name for manifest in ADDONS.glob("*/__manifest__.py")}


def test_compose_file_is_valid(compose, validator):
    assert _errors(validator, compose) == []


def test_validator_rejects_a_broken_compose_file(compose, validator):
    broken = copy.deepcopy(compose)
    broken["services"]["odoo"]["ports"] = 8069
    errors = _errors(validator, broken)
    assert errors, "a compose file whose ports is a number passed validation: the validator is not live"
    assert any(error.startswith("services/odoo/ports") for error in errors), errors

    broken = copy.deepcopy(compose)
    broken["services"]["odoo"]["depends_on"]["db"]["condition"] = "service_happy"
    assert not validator.is_valid(broken)

    broken = copy.deepcopy(compose)
    broken["services"]["odoo"]["imagee"] = broken["services"]["odoo"].pop("image")
    assert not validator.is_valid(broken)


def test_images(compose):
    odoo = compose["services"]["odoo"]
    assert odoo["image"] != "odoo:19.0", "the image built here must not shadow the official one"
    dockerfile = ROOT / odoo["build"]["context"] / odoo["build"].get("dockerfile", "Dockerfile")
    lines = [line.strip() for line in dockerfile.read_text(encoding="utf-8").splitlines()]
    assert "FROM odoo:19.0" in lines, "built on the official image"
    assert any("apt-get install" in line and "libgomp1" in line for line in lines), "lightgbm needs OpenMP"
    assert lines[-1] == "USER odoo", "the server runs as the image's odoo user, as in the official image"
    assert compose["services"]["db"]["image"] == "postgres:16"


def test_database_service(compose):
    db = compose["services"]["db"]
    env = _environment(db)
    assert env["POSTGRES_USER"] == "odoo"
    assert env["POSTGRES_PASSWORD"] == "odoo"
    assert env["POSTGRES_DB"] == "postgres"
    assert "pg_isready" in json.dumps(db["healthcheck"]["test"])
    data = [source for source, target, _ro in _mounts(db) if target == "/var/lib/postgresql/data"]
    assert data and data[0] in (compose.get("volumes") or {}), "the database needs a named volume"


def test_odoo_service(compose):
    odoo = compose["services"]["odoo"]
    assert odoo["depends_on"]["db"]["condition"] == "service_healthy"
    assert ("8069", "8069") in _published_ports(odoo)
    env = _environment(odoo)
    db_env = _environment(compose["services"]["db"])
    assert env["HOST"] == "db"
    assert env["USER"] == db_env["POSTGRES_USER"]
    assert env["PASSWORD"] == db_env["POSTGRES_PASSWORD"]

    mounts = {target: (source, read_only) for source, target, read_only in _mounts(odoo)}
    assert mounts["/mnt/extra-addons"] == ("./addons", True)
    assert mounts["/mnt/suite-tools"] == ("./tools", True)
    assert mounts["/mnt/suite-docker"][0] == "./docker"
    assert mounts["/mnt/suite-requirements.txt"][0] == "./requirements.txt"
    assert mounts["/var/lib/odoo"][0] in (compose.get("volumes") or {}), "the filestore needs a named volume"

    command = odoo.get("command") or odoo.get("entrypoint")
    command = " ".join(command) if isinstance(command, list) else command
    assert "/mnt/suite-docker/start.sh" in command


def test_bind_mounts_and_named_volumes_exist(compose):
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for source, target, _ro in _mounts(service):
            if not source:
                continue
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: {source} (mounted at {target}) is not in the repository"
            else:
                assert source in declared, f"{name}: named volume {source} is not declared under volumes"


def test_start_script_is_executable_posix_sh(script):
    assert script.startswith("#!/bin/sh\n")
    assert START_SCRIPT.stat().st_mode & 0o111, "docker/start.sh is not executable"
    shells = ["sh"] + [shell for shell in ("dash", "bash") if shutil.which(shell)]
    for shell in shells:
        result = subprocess.run([shell, "-n", str(START_SCRIPT)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{shell} -n docker/start.sh: {result.stderr}"


def test_start_script_installs_every_suite_addon(script):
    modules = re.search(r"^MODULES=([\w,]+)$", script, re.MULTILINE)
    assert modules, "docker/start.sh has no MODULES=... line"
    addons = _suite_addons()
    assert addons, "no addon with a __manifest__.py under addons/"
    assert set(modules.group(1).split(",")) == addons
    assert re.search(r"^DB=crm_suite_demo$", script, re.MULTILINE)
    assert re.search(r'odoo -d "\$DB" -i "\$MODULES" --with-demo --stop-after-init', script)


def test_start_script_runs_the_generator_then_serves(script):
    generator = re.search(r'python3 "\$TOOLS_DIR/datagen\.py" -c "\$SUITE_CONF" -d "\$DB" --size small', script)
    assert generator
    assert re.search(r"^TOOLS_DIR=/mnt/suite-tools$", script, re.MULTILINE)
    assert re.search(r"^ADDONS_PATH=/mnt/extra-addons$", script, re.MULTILINE)
    serve = re.search(r'^exec odoo -d "\$DB" --db-filter="\^\$DB\\\$"', script, re.MULTILINE)
    assert serve, "docker/start.sh does not end by exec'ing odoo on crm_suite_demo"
    assert generator.start() < serve.start()
