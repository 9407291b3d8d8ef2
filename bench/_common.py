"""What every benchmark needs: a fresh database, an Odoo environment, figures printed."""

import contextlib
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import suite  # noqa: E402


def fresh_database(conf, name, modules, demo=False):
    """Drop ``name`` if present and install ``modules`` into it."""
    suite.RUN_CONF = Path(conf)
    suite.drop_database(name)
    cmd = [
        *suite.odoo_cmd(),
        "-c",
        str(conf),
        "-d",
        name,
        "-i",
        ",".join(modules),
        "--stop-after-init",
        "--log-level=warn",
    ]
    if demo:
        cmd.append("--with-demo")
    started = time.perf_counter()
    if subprocess.run(cmd, check=False).returncode:
        raise SystemExit(f"installing {modules} into {name} failed")
    return time.perf_counter() - started


def drop_database(conf, name):
    suite.RUN_CONF = Path(conf)
    suite.drop_database(name)


def copy_database(conf, source, target):
    """``target`` made from ``source`` (``CREATE DATABASE ... TEMPLATE``) with its filestore."""
    suite.RUN_CONF = Path(conf)
    suite.drop_database(target)
    with contextlib.closing(suite.db_connection()) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [source],
        )
        cr.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    filestore = Path(suite.read_conf(conf)["data_dir"]) / "filestore"
    if (filestore / source).exists():
        shutil.copytree(filestore / source, filestore / target)


@contextlib.contextmanager
def odoo_env(conf, dbname):
    """An environment as superuser on ``dbname``; the caller commits what it keeps."""
    import odoo  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    odoo.tools.config.parse_config(["-c", str(conf), "-d", dbname, "--log-level=warn"])
    registry = Registry(dbname)
    with registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started


@contextlib.contextmanager
def count_queries(cr):
    """Count the SQL statements run on ``cr`` inside the block."""
    counter = {"queries": 0}
    before = cr.sql_log_count
    try:
        yield counter
    finally:
        counter["queries"] = cr.sql_log_count - before


@contextlib.contextmanager
def count_all_queries():
    """Count the SQL statements of every cursor inside the block, other threads' included."""
    from odoo import sql_db  # noqa: PLC0415

    counter = {"queries": 0}
    lock = threading.Lock()
    original = sql_db.Cursor.execute

    def execute(self, *args, **kwargs):
        with lock:
            counter["queries"] += 1
        return original(self, *args, **kwargs)

    sql_db.Cursor.execute = execute
    try:
        yield counter
    finally:
        sql_db.Cursor.execute = original


def arg(argv, name, default=None):
    if name in argv:
        return argv[argv.index(name) + 1]
    return default
