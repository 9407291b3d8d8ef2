import random

from odoo import Command
from odoo.tests import TransactionCase, new_test_user


class ScoringCase(TransactionCase):
    """Users of each sales level, a team, and helpers to make closed leads with a learnable signal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # leads are scored as they are created (the scoring job's own path is tested on its own)
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=True, mail_create_nolog=True, crm_lead_scoring_sync=True)
        )
        # start from a blank configuration, whatever the database holds (demo rules, trained models)
        cls.env["crm.lead.scoring.rule"].search([]).active = False
        cls.env["crm.lead.scoring.threshold"].search([]).active = False
        cls.env["crm.lead.scoring.model"].search([]).state = "retired"
        cls.company = cls.env.company
        cls.company.write(
            {
                "scoring_min_closed_leads": 40,
                "scoring_half_life_days": 10,
                "scoring_model_weight": 70,
                "scoring_rule_base": 0,
                "scoring_grade_a_min": 70,
                "scoring_grade_b_min": 45,
                "scoring_grade_c_min": 20,
                # Odoo's probability is left alone (the default); the tests about the score driving it say so
                "scoring_drives_probability": False,
            }
        )
        cls.manager = new_test_user(cls.env, "score_manager", groups="sales_team.group_sale_manager")
        cls.salesman = new_test_user(cls.env, "score_salesman", groups="sales_team.group_sale_salesman")
        cls.other_salesman = new_test_user(cls.env, "score_other", groups="sales_team.group_sale_salesman")
        cls.team = cls.env["crm.team"].create(
            {"name": "Scoring Team", "member_ids": [Command.link(cls.salesman.id), Command.link(cls.other_salesman.id)]}
        )
        cls.source_web = cls.env["utm.source"].create({"name": "Scoring Web"})
        cls.source_fair = cls.env["utm.source"].create({"name": "Scoring Fair"})
        cls.won_stage = cls.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        cls.lost_reason = cls.env["crm.lost.reason"].create({"name": "Scoring: too expensive"})

    @classmethod
    def _make_closed_leads(cls, count, seed=1, flip=0.0):
        """Closed leads where the web source wins far more often than the fair (``flip`` adds noise)."""
        rng = random.Random(seed)
        leads = cls.env["crm.lead"]
        vals = []
        outcomes = []
        for i in range(count):
            web = rng.random() < 0.5
            won = rng.random() < (0.75 if web else 0.15)
            if rng.random() < flip:
                won = not won
            outcomes.append(won)
            vals.append(
                {
                    "name": f"Closed {seed}-{i}",
                    "type": "opportunity",
                    "team_id": cls.team.id,
                    "source_id": (cls.source_web if web else cls.source_fair).id,
                    "expected_revenue": rng.choice([1000, 5000, 20000]),
                    "email_from": f"buyer{i}@example{seed}.com",
                }
            )
        leads = cls.env["crm.lead"].create(vals)
        won_leads = leads.filtered(lambda lead: outcomes[leads.ids.index(lead.id)])
        won_leads.write({"stage_id": cls.won_stage.id})
        (leads - won_leads).action_set_lost(lost_reason_id=cls.lost_reason.id)
        return leads, won_leads
