"""1.5: the score, the grade and the scoring model of a lead are no longer indexed.

Odoo keeps an index a field no longer asks for: they are dropped here. Each made every
rescored lead a new entry in all of crm_lead's indexes (see ``score`` in models/crm_lead.py).
Only indexes go; no data.
"""

from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    for name in ("crm_lead__score_index", "crm_lead__score_grade_index", "crm_lead__score_model_id_index"):
        cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
