from odoo.tests import TransactionCase


class TestLeadScoringSettings(TransactionCase):
    def test_defaults_and_parameters(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.scoring_min_closed_leads, 100)
        self.assertEqual(settings.scoring_engagement_half_life, 30)
        settings.write({"scoring_min_closed_leads": 250, "scoring_engagement_half_life": 14})
        settings.execute()
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(params.get_param("crm_lead_scoring.min_closed_leads"), "250")
        self.assertEqual(params.get_param("crm_lead_scoring.engagement_half_life"), "14")
