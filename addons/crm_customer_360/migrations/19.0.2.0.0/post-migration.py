"""2.0: the amounts the ERP facts add to a lead's score explanation are kept to the accounting
groups. The open leads a model explained are queued for the scoring job, which explains them
again in the new words (their score does not change)."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """UPDATE crm_lead SET score_pending = true
            WHERE won_status = 'pending' AND score_model_id IS NOT NULL AND NOT score_pending"""
    )
