# The few commands a user types. Everything goes through tools/suite.py, which
# reaches PostgreSQL (odoo.conf, or a local cluster under .local/) first.
PYTHON ?= python3
SUITE := $(PYTHON) tools/suite.py
export PYTHON

.PHONY: help demo demo-db test test-odoo lint soak bench bench-seed bench-scoring bench-sla bench-q2c bench-360 db-stop clean

help:
	@echo "make demo         create crm_suite_demo (suite + demo data) if missing, serve http://localhost:8069 (admin/admin)"
	@echo "make test         fresh database, install the suite, run every test (pytest-odoo, browser tours)"
	@echo "make test-odoo    Odoo's own crm/sale/mail-gateway tests with the suite and without it (long, not in CI);"
	@echo "                  options in ARGS, e.g. make test-odoo ARGS='--only with -k test_crm_lead --keep'"
	@echo "make lint         pre-commit: ruff (lint, format) and pylint-odoo on the whole tree"
	@echo "make bench        every benchmark; bench-seed, bench-scoring, bench-sla, bench-q2c, bench-360 one by one"
	@echo "make soak         a prefork server under load for 60 minutes (ARGS='--minutes 5' for a quick run); not in CI"
	@echo "make db-stop      stop the local PostgreSQL cluster under .local/ (if one was started)"

demo:
	@$(SUITE) demo

demo-db:
	@$(SUITE) demo --no-serve

test:
	@$(SUITE) test

# ARGS: --only with|without, -k EXPR, --keep, --reuse, --http-port N (see tools/suite.py test-odoo -h)
test-odoo:
	@$(SUITE) test-odoo $(ARGS)

# ARGS: --minutes N, --burst N, --lead-rate N, --reuse, --keep (see bench/bench_soak.py -h)
soak:
	@$(SUITE) bench soak $(ARGS)

lint:
	@$(PYTHON) -m pre_commit run --all-files --show-diff-on-failure

bench: bench-seed bench-scoring bench-sla bench-q2c bench-360

bench-seed:
	@$(SUITE) bench seed

bench-scoring bench-sla bench-q2c bench-360:
	@$(SUITE) bench $(subst bench-,,$@)

db-stop:
	@$(SUITE) db-stop

clean: db-stop
	rm -rf .local
