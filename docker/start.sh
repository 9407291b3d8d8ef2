#!/bin/sh
# Start the suite's demo inside the official odoo:19.0 image (docker-compose.yml).
#
# First start (database crm_suite_demo missing, or its demo data not marked as
# seeded by the ir.config_parameter crm_suite.demo_seeded): install the four
# addons with demo data, run tools/datagen.py --size small, then serve.
# Later starts: serve at once. Arguments given to this script are passed on
# to the serving odoo.
#
# What this relies on in the image, as odoo/docker's 19.0/Dockerfile,
# 19.0/entrypoint.sh and 19.0/wait-for-psql.py set it up:
# - it runs as the system user odoo, whose home and data_dir is /var/lib/odoo
#   (a volume, writable); /etc/odoo/odoo.conf (ODOO_RC) sets addons_path and
#   data_dir only, no database settings;
# - the entrypoint passes --db_host/--db_port/--db_user/--db_password from
#   HOST/PORT/USER/PASSWORD only when the command starts with "odoo"; any
#   other command (this script) is exec'd as is, so the database arguments
#   are given here, with the entrypoint's defaults;
# - `odoo`, python3 (Ubuntu noble, PEP 668: pip needs
#   --break-system-packages), pip, psql (postgresql-client) and
#   /usr/local/bin/wait-for-psql.py are installed.
set -eu

DB=crm_suite_demo
MODULES=suite_batch_job,crm_lead_scoring,support_desk,sale_quote_to_cash,crm_customer_360
ADDONS_PATH=/mnt/extra-addons
DATA_DIR=/var/lib/odoo
TOOLS_DIR=/mnt/suite-tools
REQUIREMENTS=/mnt/suite-requirements.txt
SEEDED_KEY=crm_suite.demo_seeded
# The configuration given to the data generator (it contains the password).
SUITE_CONF=${SUITE_CONF:-$DATA_DIR/crm_suite_docker.conf}

# Same defaults and PASSWORD_FILE support as the image's entrypoint.
if [ -n "${PASSWORD_FILE:-}" ] && [ -r "$PASSWORD_FILE" ]; then
    PASSWORD=$(cat "$PASSWORD_FILE")
fi
HOST=${HOST:-${DB_PORT_5432_TCP_ADDR:-db}}
PORT=${PORT:-${DB_PORT_5432_TCP_PORT:-5432}}
USER=${USER:-${DB_ENV_POSTGRES_USER:-${POSTGRES_USER:-odoo}}}
PASSWORD=${PASSWORD:-${DB_ENV_POSTGRES_PASSWORD:-${POSTGRES_PASSWORD:-odoo}}}

log() {
    echo "[crm-suite] $*" >&2
}

die() {
    log "ERROR: $*"
    exit 1
}

# sql DBNAME QUERY: print the query's result (unaligned, no header).
sql() {
    PGPASSWORD="$PASSWORD" psql -X -q -t -A -v ON_ERROR_STOP=1 \
        -h "$HOST" -p "$PORT" -U "$USER" -d "$1" -c "$2"
}

db_exists() {
    [ "$(sql postgres "SELECT 1 FROM pg_database WHERE datname = '$DB'")" = 1 ]
}

db_seeded() {
    # Fails (prints nothing) when the database or the table does not exist.
    [ "$(sql "$DB" "SELECT 1 FROM ir_config_parameter WHERE key = '$SEEDED_KEY'" 2>/dev/null)" = 1 ]
}

# Succeeds when every distribution named in the requirements file is installed.
requirements_met() {
    python3 - "$REQUIREMENTS" <<'PY'
import importlib.metadata
import re
import sys

missing = []
with open(sys.argv[1], encoding="utf-8") as handle:
    for line in handle:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name = re.split(r"[\s<>=!~;\[@]", line, maxsplit=1)[0]
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
if missing:
    print("missing Python packages: " + " ".join(missing), file=sys.stderr)
    sys.exit(1)
PY
}

# Install requirements.txt (mounted read-only) into the odoo user's site
# (/var/lib/odoo/.local, on the volume, so it is done once).
ensure_requirements() {
    [ -r "$REQUIREMENTS" ] || return 0
    requirements_met && return 0
    log "installing $REQUIREMENTS with pip (user site)"
    python3 -m pip install --quiet --user --break-system-packages --no-warn-script-location \
        -r "$REQUIREMENTS" || return 1
    requirements_met
}

write_generator_conf() {
    (
        umask 077
        cat >"$SUITE_CONF" <<EOF
[options]
addons_path = $ADDONS_PATH
data_dir = $DATA_DIR
db_host = $HOST
db_port = $PORT
db_user = $USER
db_password = $PASSWORD
EOF
    )
}

first_start() {
    if db_exists; then
        log "$DB exists but its demo data is incomplete: recreating it"
        sql postgres "DROP DATABASE \"$DB\" WITH (FORCE)" >/dev/null
        rm -rf "$DATA_DIR/filestore/$DB"
    fi
    ensure_requirements || die "the Python packages of requirements.txt are missing and pip could not install them"

    log "first start: installing $MODULES with demo data into $DB (a few minutes)"
    odoo -d "$DB" -i "$MODULES" --with-demo --stop-after-init \
        --db_host="$HOST" --db_port="$PORT" --db_user="$USER" --db_password="$PASSWORD" \
        --addons-path="$ADDONS_PATH" --data-dir="$DATA_DIR" ||
        die "installing the suite failed (see the log above)"

    log "running the demo data generator (--size small)"
    write_generator_conf
    python3 "$TOOLS_DIR/datagen.py" -c "$SUITE_CONF" -d "$DB" --size small ||
        die "the demo data generator failed (see the log above)"

    # The generator marks the database; mark it here too if it did not, so
    # that a successful first start is never repeated.
    if ! db_seeded; then
        sql "$DB" "INSERT INTO ir_config_parameter (key, value, create_date, write_date)
                   VALUES ('$SEEDED_KEY', 'docker/start.sh', now() at time zone 'UTC', now() at time zone 'UTC')
                   ON CONFLICT (key) DO NOTHING" >/dev/null
    fi
}

if command -v wait-for-psql.py >/dev/null 2>&1; then
    wait-for-psql.py --db_host "$HOST" --db_port "$PORT" --db_user "$USER" --db_password "$PASSWORD" \
        --timeout=60 || die "PostgreSQL at $HOST:$PORT does not answer"
fi
sql postgres "SELECT 1" >/dev/null || die "cannot connect to PostgreSQL at $HOST:$PORT as $USER"

if db_seeded; then
    log "reusing the database $DB"
    ensure_requirements || log "WARNING: the Python packages of requirements.txt are missing"
else
    first_start
fi

log "serving http://localhost:8069 (database $DB, login admin, password admin)"
exec odoo -d "$DB" --db-filter="^$DB\$" --http-port=8069 \
    --db_host="$HOST" --db_port="$PORT" --db_user="$USER" --db_password="$PASSWORD" \
    --addons-path="$ADDONS_PATH" --data-dir="$DATA_DIR" "$@"
