"""1.1: a score's history row no longer stores the company, it reads the lead's.

The column is dropped (with its foreign key, checked on each row a rescoring
inserts): every row's company is its lead's, so nothing is lost.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute("ALTER TABLE crm_lead_score_history DROP COLUMN IF EXISTS company_id")
