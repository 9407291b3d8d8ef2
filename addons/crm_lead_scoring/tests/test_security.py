from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import ScoringCase


@tagged("post_install", "-at_install")
class TestScoringSecurity(ScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.lead.scoring.rule"].create({"name": "Everyone", "kind": "fit", "points": 10, "domain": "[]"})
        cls.own = cls.env["crm.lead"].create({"name": "Mine", "user_id": cls.salesman.id})
        cls.foreign = cls.env["crm.lead"].create({"name": "Not mine", "user_id": cls.other_salesman.id})

    def test_salesman_reads_scores_of_leads_they_can_read(self):
        own = self.own.with_user(self.salesman)
        self.assertEqual(own.score, 10)
        self.assertTrue(own.score_explanation_html)
        History = self.env["crm.lead.score.history"].with_user(self.salesman)
        self.assertEqual(History.search([("lead_id", "in", (self.own | self.foreign).ids)]).lead_id, self.own)
        with self.assertRaises(AccessError):
            self.foreign.with_user(self.salesman).read(["score"])

    def test_salesman_cannot_edit_rules_models_or_thresholds(self):
        for model in ("crm.lead.scoring.rule", "crm.lead.scoring.group", "crm.lead.scoring.threshold"):
            records = self.env[model].with_user(self.salesman)
            self.assertTrue(records.check_access("read") is None)
            with self.assertRaises(AccessError):
                records.create({"name": "Nope"})
        with self.assertRaises(AccessError):
            self.env["crm.lead.scoring.model"].with_user(self.salesman).create({"company_id": self.company.id})

    def test_salesman_cannot_write_a_score(self):
        own = self.own.with_user(self.salesman)
        own.write({"name": "Renamed"})  # a plain edit works and rescoring runs under the hood
        self.assertEqual(own.score, 10)
        # read-only in the form is refused on the server too, over RPC as in the ORM
        for vals in ({"score": 99}, {"score_grade": "A"}, {"score_pending": False}, {"score_source": "model"}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                own.write(vals)
        with self.assertRaises(AccessError):
            self.env["crm.lead"].with_user(self.salesman).create({"name": "Forged", "score": 99})
        self.assertEqual(own.score, 10)

    def test_manager_edits_rules_and_rescoring_follows(self):
        rule = (
            self.env["crm.lead.scoring.rule"]
            .with_user(self.manager)
            .create({"name": "Manager rule", "kind": "fit", "points": 5, "domain": "[]"})
        )
        self.assertTrue(rule)
        self.env["crm.lead"]._scoring_rescore_all(commit=False)
        self.own.invalidate_recordset()
        self.assertEqual(self.own.score, 15)

    def test_other_company_rules_do_not_apply(self):
        other_company = self.env["res.company"].create({"name": "Other Scoring Co"})
        self.env["crm.lead.scoring.rule"].create(
            {"name": "Other company rule", "kind": "fit", "points": 40, "domain": "[]", "company_id": other_company.id}
        )
        lead = self.env["crm.lead"].create({"name": "Here"})
        self.assertEqual(lead.score, 10)

    def test_the_model_report_escapes_what_its_tables_hold(self):
        script = "<script>alert(1)</script>"
        Model = self.env["crm.lead.scoring.model"]
        injected = Model.create(
            {
                "company_id": self.company.id,
                "state": "retired",
                "calibration": [{"predicted": 0.25, "observed": 0.5, "count": script}],
                "lift": [{"decile": script, "count": 3, "win_rate": 0.5, "lift": 1.5}],
            }
        )
        html = injected.with_user(self.manager).report_html
        self.assertNotIn("<script", html)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", html)
        self.assertIn("<td>25 %</td><td>50 %</td>", html)
        self.assertIn("×1.50", html)
        # numbers stored as text are shown as text, escaped, instead of breaking the report
        as_text = Model.create(
            {
                "company_id": self.company.id,
                "state": "retired",
                "calibration": [{"predicted": script, "observed": script, "count": 3}],
                "lift": [{"decile": 1, "count": 3, "win_rate": script, "lift": script}],
            }
        )
        html = as_text.with_user(self.manager).report_html
        self.assertNotIn("<script", html)
        self.assertEqual(html.count("&lt;script&gt;"), 4)
