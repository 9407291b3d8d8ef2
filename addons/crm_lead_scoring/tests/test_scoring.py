from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from ..models.crm_lead import WAKE_KEY
from .common import ScoringCase


@tagged("post_install", "-at_install")
class TestRuleScoring(ScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Rule = cls.env["crm.lead.scoring.rule"]
        cls.engagement_group = cls.env["crm.lead.scoring.group"].create({"name": "Engagement", "cap": 40})
        cls.rule_revenue = Rule.create(
            {
                "name": "Big deal",
                "kind": "fit",
                "points": 30,
                "domain": "[('expected_revenue', '>=', 10000)]",
            }
        )
        cls.rule_web = Rule.create(
            {
                "name": "Came from the web",
                "kind": "fit",
                "points": 25,
                "domain": f"[('source_id', '=', {cls.source_web.id})]",
            }
        )
        cls.rule_email = Rule.create(
            {
                "name": "Wrote to us",
                "kind": "engagement",
                "event": "email_in",
                "points": 20,
                "group_id": cls.engagement_group.id,
            }
        )

    def _lead(self, **values):
        return self.env["crm.lead"].create({"name": "Scored lead", "type": "opportunity", **values})

    def test_fit_rules_score_on_create_and_explain(self):
        lead = self._lead(expected_revenue=50000, source_id=self.source_web.id)
        self.assertEqual(lead.score, 55)
        self.assertEqual(lead.score_grade, "B")
        self.assertEqual(lead.score_source, "rules")
        self.assertEqual(sum(f["points"] for f in lead.score_explanation), lead.score)
        self.assertIn("Big deal", lead.score_explanation_html)
        self.assertEqual(lead.score_history_ids.reason, "create")

    def test_changing_a_used_field_rescores(self):
        lead = self._lead(expected_revenue=500)
        self.assertEqual(lead.score, 0)
        self.assertEqual(lead.score_grade, "D")
        lead.expected_revenue = 20000
        self.assertEqual(lead.score, 30)
        self.assertEqual(lead.score_grade, "C")
        self.assertEqual(lead.score_history_ids.mapped("reason"), ["update", "create"])
        self.assertEqual(lead.score_history_ids[0].previous_score, 0)

    def test_unrelated_change_keeps_history_quiet(self):
        lead = self._lead(expected_revenue=20000)
        lead.description = "Called, will call back"
        self.assertEqual(len(lead.score_history_ids), 1)

    def test_rescoring_leaves_unchanged_scores_unwritten(self):
        self.company.scoring_drives_probability = True
        start = fields.Datetime.now()
        with freeze_time(start):
            lead = self._lead(expected_revenue=20000)
            unchanged = self._lead(expected_revenue=500)
        self.assertEqual(lead.score_date, start)
        self.env.flush_all()
        with freeze_time(start + timedelta(days=1)):
            # a change the write() override did not see (an import in SQL): the daily rescoring catches it
            self.env.cr.execute("UPDATE crm_lead SET source_id = %s WHERE id = %s", [self.source_web.id, lead.id])
            self.env["crm.lead"]._scoring_rescore_all(reason="rescore", commit=False)
        self.assertEqual(lead.score, 55)
        self.assertEqual(lead.score_date, start + timedelta(days=1))
        self.assertEqual((lead.probability, lead.prorated_revenue), (55, 11000), "the amounts follow the score")
        self.assertEqual(unchanged.score_date, start, "same score, grade and explanation: the row is not rewritten")
        self.assertEqual(len(unchanged.score_history_ids), 1)

    def test_lead_without_company_is_scored(self):
        self.company.scoring_drives_probability = True
        lead = self._lead(expected_revenue=20000, company_id=False)
        self.assertFalse(lead.company_id)
        self.assertEqual((lead.score, lead.score_grade), (30, "C"))
        self.assertEqual(lead.probability, 30, "the current company's settings apply: the score drives it")

    def test_daily_rescoring_keeps_the_explanation_of_an_unchanged_score(self):
        lead = self._lead(expected_revenue=20000)
        self.rule_revenue.name = "Large deal"  # the words change, not the points
        self.env["crm.lead"]._scoring_rescore_all(reason="rescore", commit=False)
        self.assertEqual([f["label"] for f in lead.score_explanation], ["Big deal"], "same score: row left as is")
        lead.action_scoring_recompute()
        self.assertEqual([f["label"] for f in lead.score_explanation], ["Large deal"], "on request: explained anew")
        self.assertEqual(lead.score, 30)

    def test_engagement_decays_with_half_life(self):
        start = fields.Datetime.now()
        with freeze_time(start):
            lead = self._lead(email_from="client@client-co.com")
            lead.message_post(
                body="Hello, interested!",
                message_type="email",
                author_id=self.env["res.partner"].create({"name": "Client", "email": "client@client-co.com"}).id,
            )
            lead._scoring_rescore()
            self.assertEqual(lead.score, 20)
        with freeze_time(start + timedelta(days=10)):  # one half-life later
            lead._scoring_rescore(reason="rescore")
            self.assertEqual(lead.score, 10)
        with freeze_time(start + timedelta(days=20)):
            self.env["crm.lead"]._scoring_rescore_all(reason="rescore", commit=False)
            lead.invalidate_recordset()
            self.assertEqual(lead.score, 5)
            self.assertEqual(lead.score_history_ids[0].reason, "rescore")

    def test_engagement_of_a_lead_without_company(self):
        lead = self._lead(email_from="client@client-co.com", company_id=False)
        lead.message_post(
            body="Hello, interested!",
            message_type="email",
            author_id=self.env["res.partner"].create({"name": "Client", "email": "client@client-co.com"}).id,
        )
        lead._scoring_rescore()
        self.assertEqual(lead.score, 20, "its email counts, with the current company's half-life")

    def test_engagement_group_cap(self):
        lead = self._lead(email_from="client@client-co.com")
        author = self.env["res.partner"].create({"name": "Chatty", "email": "client@client-co.com"})
        for _i in range(3):
            lead.message_post(body="Again", message_type="email", author_id=author.id)
        lead._scoring_rescore()
        self.assertEqual(lead.score, 40)
        labels = [f["label"] for f in lead.score_explanation]
        self.assertIn("Engagement: limited to +40", labels)
        self.assertAlmostEqual(sum(f["points"] for f in lead.score_explanation), 40, places=3)

    def test_notes_and_internal_messages_are_not_engagement(self):
        lead = self._lead()
        lead.message_post(body="internal note", message_type="comment", subtype_xmlid="mail.mt_note")
        lead._scoring_rescore()
        self.assertEqual(lead.score, 0)

    def test_closed_leads_keep_their_score(self):
        lead = self._lead(expected_revenue=50000)
        lead.write({"stage_id": self.won_stage.id})
        score = lead.score
        self.rule_revenue.points = 5
        self.env["crm.lead"]._scoring_rescore_all(commit=False)
        lead.invalidate_recordset()
        self.assertEqual(lead.score, score)

    def test_team_rule_only_for_its_team(self):
        self.env["crm.lead.scoring.rule"].create(
            {
                "name": "Team lead",
                "kind": "fit",
                "points": 15,
                "domain": "[]",
                "team_id": self.team.id,
            }
        )
        in_team = self._lead(team_id=self.team.id)
        other = self._lead(team_id=False)
        self.assertEqual(in_team.score, 15)
        self.assertEqual(other.score, 0)


@tagged("post_install", "-at_install")
class TestThresholds(ScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rule = cls.env["crm.lead.scoring.rule"].create(
            {
                "name": "Big deal",
                "kind": "fit",
                "points": 80,
                "domain": "[('expected_revenue', '>=', 10000)]",
            }
        )
        cls.hot_tag = cls.env["crm.tag"].create({"name": "Hot"})
        cls.threshold = cls.env["crm.lead.scoring.threshold"].create(
            {
                "name": "Hot lead",
                "trigger": "grade",
                "grade": "A",
                "assign_user_id": cls.salesman.id,
                "activity_type_id": cls.env.ref("mail.mail_activity_data_call").id,
                "activity_summary": "Call the hot lead",
                "tag_ids": [(6, 0, cls.hot_tag.ids)],
            }
        )

    def test_threshold_fires_once_per_crossing(self):
        lead = self.env["crm.lead"].create({"name": "Hot?", "expected_revenue": 50000})
        self.assertEqual(lead.score_grade, "A")
        self.assertEqual(lead.user_id, self.salesman)
        self.assertIn(self.hot_tag, lead.tag_ids)
        self.assertEqual(len(lead.activity_ids), 1)
        self.assertTrue(any("Hot lead" in (m.body or "") for m in lead.message_ids))
        # staying A fires nothing more
        lead._scoring_rescore(reason="manual")
        lead.expected_revenue = 60000
        self.assertEqual(len(lead.activity_ids), 1)
        # dropping below and crossing again fires again
        lead.expected_revenue = 100
        self.assertEqual(lead.score_grade, "D")
        lead.expected_revenue = 70000
        self.assertEqual(len(lead.activity_ids), 2)
        notes = lead.message_ids.filtered(lambda m: "Hot lead" in (m.body or ""))
        self.assertEqual(len(notes), 2)

    def test_score_threshold(self):
        self.threshold.write({"trigger": "score", "min_score": 50, "activity_type_id": False, "tag_ids": False})
        lead = self.env["crm.lead"].create({"name": "Cold", "expected_revenue": 10})
        self.assertFalse(lead.user_id == self.salesman and lead.activity_ids)
        lead.expected_revenue = 10000
        self.assertEqual(lead.user_id, self.salesman)


@tagged("post_install", "-at_install")
class TestScoringJob(ScoringCase):
    """Without the sync flag, creating a lead only queues it; the triggered job scores it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.lead.scoring.rule"].create(
            {"name": "Big deal", "kind": "fit", "points": 30, "domain": "[('expected_revenue', '>=', 10000)]"}
        )
        cls.cron = cls.env.ref("crm_lead_scoring.ir_cron_scoring_pending")

    def _triggers(self):
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])

    def test_create_queues_and_triggers_the_job(self):
        Lead = self.env["crm.lead"].with_context(crm_lead_scoring_sync=False)
        triggers_before = self._triggers()
        leads = Lead.create([{"name": "Queued 1", "expected_revenue": 20000}, {"name": "Queued 2"}])
        Lead.create({"name": "Queued 3"})
        self.assertEqual(leads.mapped("score_pending"), [True, True])
        self.assertFalse(leads.mapped("score_grade")[0])
        self.assertEqual(self._triggers(), triggers_before, "nothing added to the creator's transaction")
        wake = self.env.cr.postcommit.data.get(WAKE_KEY)
        self.assertIn(wake, self.env.cr.postcommit._funcs, "the job is woken once the creation is committed")
        self.assertEqual(list(self.env.cr.postcommit._funcs).count(wake), 1, "once per transaction")
        with self.enter_registry_test_mode():
            wake()
        self.assertEqual(self._triggers(), triggers_before + 1)
        self.assertEqual(self.env["crm.lead"]._cron_score_pending(commit=False), 3)
        self.assertEqual(leads.mapped("score_pending"), [False, False])
        self.assertEqual(leads.mapped("score"), [30, 0])
        self.assertEqual(leads[0].score_history_ids.reason, "create")
        self.assertEqual(self.env["crm.lead"]._cron_score_pending(commit=False), 0, "nothing left in the queue")

    def test_write_of_a_scoring_fact_queues_the_lead(self):
        lead = self.env["crm.lead"].with_context(crm_lead_scoring_sync=False).create({"name": "Queued"})
        self.env["crm.lead"]._cron_score_pending(commit=False)
        lead.description = "Called, will call back"
        self.assertFalse(lead.score_pending, "a field the score does not read: nothing to do")
        lead.expected_revenue = 20000
        self.assertTrue(lead.score_pending)
        self.assertEqual(lead.score, 0, "scored by the job, not in the writer's request")
        self.assertEqual(self.env["crm.lead"]._cron_score_pending(commit=False), 1)
        self.assertEqual(lead.score, 30)
        self.assertEqual(lead.score_history_ids.mapped("reason"), ["update", "create"])

    def test_odoo_lead_writes_cost_no_query(self):
        """Odoo's lead writes (assignment, stage changes) cost what they cost without the scoring:
        the queueing rides in Odoo's own UPDATE, the trigger fields are read once, not per write."""

        def make():
            return self.env["crm.lead"].create(
                [{"name": f"Lead {i}", "expected_revenue": 20000, "team_id": self.team.id} for i in range(3)]
            )

        # the same writes on twin leads: without the scoring (skipped), and with it
        warm, plain, scored = make(), make(), make()
        stage = self.env["crm.stage"].search([("is_won", "=", False)], order="sequence desc", limit=1)

        def queries(leads, context, vals):
            self.env.flush_all()
            self.env.invalidate_all()
            start = self.cr.sql_log_count
            leads.with_context(crm_lead_scoring_sync=False, **context).write(vals)
            self.env.flush_all()
            return self.cr.sql_log_count - start

        for vals, queued in (
            ({"user_id": self.salesman.id}, True),
            ({"team_id": False}, True),
            ({"stage_id": stage.id}, False),
            ({"description": "Called back"}, False),
        ):
            with self.subTest(field=next(iter(vals))):
                (warm | plain | scored).score_pending = False
                queries(warm, {}, vals)  # caches filled once, whoever writes first
                without = queries(plain, {"crm_lead_scoring_skip": True}, vals)
                self.assertLessEqual(queries(scored, {}, vals), without, "no query added")
                self.assertEqual(scored.mapped("score_pending"), [queued] * 3)

    def test_closed_lead_leaves_the_queue_unscored(self):
        lead = (
            self.env["crm.lead"]
            .with_context(crm_lead_scoring_sync=False)
            .create({"name": "Lost at once", "expected_revenue": 20000})
        )
        lead.action_set_lost(lost_reason_id=self.lost_reason.id)
        self.assertEqual(lead.won_status, "lost")
        self.assertEqual(self.env["crm.lead"]._cron_score_pending(commit=False), 1)
        self.assertFalse(lead.score_pending)
        self.assertFalse(lead.score_grade)


@tagged("post_install", "-at_install")
class TestScoreDrivesProbability(ScoringCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.scoring_drives_probability = True
        cls.env["crm.lead.scoring.rule"].create(
            {"name": "Big deal", "kind": "fit", "points": 60, "domain": "[('expected_revenue', '>=', 10000)]"}
        )

    def test_probability_follows_the_score(self):
        lead = self.env["crm.lead"].create({"name": "Big", "expected_revenue": 20000})
        self.assertEqual((lead.automated_probability, lead.probability), (60, 60))
        self.assertEqual(lead.prorated_revenue, 12000)
        lead.expected_revenue = 100
        self.assertEqual((lead.automated_probability, lead.probability), (0, 0))

    def test_probability_set_by_hand_is_kept(self):
        lead = self.env["crm.lead"].create({"name": "Big", "expected_revenue": 20000})
        lead.probability = 35
        lead.expected_revenue = 30000
        self.assertEqual(lead.probability, 35)
        self.assertEqual(lead.automated_probability, 60)

    def test_odoo_daily_recompute_keeps_the_score(self):
        self.env["ir.config_parameter"].sudo().set_param("crm.pls_start_date", "2000-01-01")
        lead = self.env["crm.lead"].create({"name": "Big", "expected_revenue": 20000})
        self.env["crm.lead"]._cron_update_automated_probabilities()
        lead.invalidate_recordset()
        self.assertEqual((lead.automated_probability, lead.probability), (60, 60))

    def test_odoo_daily_recompute_puts_the_score_back_with_the_prorated_amounts(self):
        """Leads scored while the option was off get the score as probability from Odoo's daily job
        on, and the amounts that follow the probability with it."""
        self.env["ir.config_parameter"].sudo().set_param("crm.pls_start_date", "2000-01-01")
        self.company.scoring_drives_probability = False
        lead = self.env["crm.lead"].create({"name": "Big", "expected_revenue": 20000, "recurring_revenue": 1000})
        self.assertEqual(lead.score, 60)
        self.assertNotEqual(lead.probability, 60)
        self.company.scoring_drives_probability = True
        self.env["crm.lead"]._cron_update_automated_probabilities()
        lead.invalidate_recordset()
        self.assertEqual((lead.automated_probability, lead.probability), (60, 60))
        self.assertEqual(lead.prorated_revenue, 12000)
        self.assertEqual((lead.recurring_revenue_prorated, lead.recurring_revenue_monthly_prorated), (600, 600))

    def test_option_off_leaves_odoo_probability(self):
        self.company.scoring_drives_probability = False
        lead = self.env["crm.lead"].create({"name": "Big", "expected_revenue": 20000})
        self.assertEqual(lead.score, 60)
        self.assertNotEqual(lead.automated_probability, 60)
