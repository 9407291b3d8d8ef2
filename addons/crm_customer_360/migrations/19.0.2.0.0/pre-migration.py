"""2.0: a customer's health is measured per company (company-dependent fields, a jsonb each).

The health measured so far counted the documents of every company. With one company it is that
company's and is kept as such; with several it is dropped, and the next nightly measure gives
each company its own (a value made of another company's documents must not be shown as one's).
"""

from odoo.tools import SQL, sql

HEALTH_COLUMNS = ("c360_health", "c360_health_trend", "c360_health_reasons", "c360_churn_risk", "c360_health_date")


def migrate(cr, version):
    if not version:
        return
    cr.execute("SELECT MIN(id), COUNT(*) FROM res_company")
    first_company, companies = cr.fetchone()
    columns = sql.table_columns(cr, "res_partner")
    for column in HEALTH_COLUMNS:
        if column not in columns or columns[column]["udt_name"] == "jsonb":
            continue
        name = SQL.identifier(column)
        if companies == 1:
            using = SQL("CASE WHEN %s IS NOT NULL THEN jsonb_build_object(%s, %s) END", name, str(first_company), name)
        else:
            using = SQL("NULL::jsonb")
        cr.execute(SQL("ALTER TABLE res_partner ALTER COLUMN %s TYPE jsonb USING %s", name, using))
