from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase


class TestLeadScoringSettings(TransactionCase):
    def test_defaults_and_parameters(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.scoring_min_closed_leads, 100)
        self.assertEqual(settings.scoring_half_life_days, 30)
        settings.write({"scoring_min_closed_leads": 250, "scoring_half_life_days": 14})
        settings.execute()
        self.assertEqual(self.env.company.scoring_min_closed_leads, 250)
        self.assertEqual(self.env.company.scoring_half_life_days, 14)

    def test_odoo_probability_is_left_alone_by_default(self):
        company = self.env["res.company"].create({"name": "Fresh Company"})
        self.assertFalse(company.scoring_drives_probability, "a fresh company keeps Odoo's own probability")
        settings = self.env["res.config.settings"].with_company(company).create({})
        self.assertFalse(settings.scoring_drives_probability)

    def test_inconsistent_settings_are_refused(self):
        for values in (
            {"scoring_min_closed_leads": 5},
            {"scoring_half_life_days": 0},
            {"scoring_model_weight": 120},
            {"scoring_grade_a_min": 40, "scoring_grade_b_min": 45},
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self.env.company.write(values)
