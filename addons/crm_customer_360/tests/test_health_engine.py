"""The health engine, tested directly on facts worked out by hand."""

from odoo.tests import BaseCase

from ..engine import health


def _(source, **kwargs):
    return source % kwargs if kwargs else source


class TestHealthEngine(BaseCase):
    def test_a_customer_buying_as_usual_is_fully_healthy(self):
        result = health.assess(
            {
                "revenue_recent": 1000.0,
                "revenue_before": 1000.0,
                "orders_recent": 3,
                "orders_before": 3,
                "days_since_order": 20,
                "rhythm_days": 30,
                "invoices_due": 6,
                "invoices_late": 0,
            },
            _,
        )
        self.assertEqual(result.score, 100)
        self.assertEqual(result.trend, "steady")
        self.assertEqual(result.reasons, [])

    def test_each_sign_takes_its_share_and_says_why(self):
        result = health.assess(
            {
                # Revenue halved: 15 of 30 points. Orders 4 -> 1: 3/4 of 10, 8 points.
                "revenue_recent": 500.0,
                "revenue_before": 1000.0,
                "orders_recent": 1,
                "orders_before": 4,
                # 90 days of silence for a 30-day rhythm: (3 - 1) / 3 of 25, 17 points.
                "days_since_order": 90,
                "rhythm_days": 30,
                # 2 of 4 invoices late: 10 of 20 points; something overdue: 5.
                "invoices_due": 4,
                "invoices_late": 2,
                "overdue_amount": 120.0,
                # 2 open tickets: 5 of 10; 1 SLA failed: 5 of 10; rated 2 of 5: 3/5 of 10, 6.
                "tickets_open": 2,
                "tickets_failed": 1,
                "rating_avg": 2.0,
                "rating_count": 3,
            },
            _,
        )
        self.assertEqual([points for points, _text in result.reasons], [17, 15, 10, 8, 6, 5, 5, 5], result.reasons)
        self.assertEqual(result.score, 100 - 71)
        self.assertEqual(result.trend, "down")
        texts = "\n".join(text for _points, text in result.reasons)
        self.assertIn("Revenue down 50%", texts)
        self.assertIn("No order for 90 days; this customer usually orders every 30 days.", texts)
        self.assertIn("2 of the 4 invoices", texts)
        self.assertNotIn("120", texts, "no accounting amount in the reasons")

    def test_a_silence_within_the_usual_rhythm_costs_nothing(self):
        result = health.assess({"days_since_order": 40, "rhythm_days": 30}, _)
        self.assertEqual(result.score, 100)

    def test_penalties_are_capped_and_the_score_never_goes_below_zero(self):
        result = health.assess(
            {
                "revenue_recent": 0.0,
                "revenue_before": 5000.0,
                "orders_recent": 0,
                "orders_before": 9,
                "days_since_order": 400,
                "rhythm_days": 10,
                "invoices_due": 3,
                "invoices_late": 3,
                "overdue_amount": 1.0,
                "tickets_open": 40,
                "tickets_failed": 9,
                "rating_avg": 1.0,
                "rating_count": 9,
            },
            _,
        )
        self.assertEqual(sum(points for points, _text in result.reasons), sum(health.WEIGHTS.values()))
        self.assertEqual(result.score, 0)

    def test_buying_more_is_an_upward_trend(self):
        result = health.assess({"revenue_recent": 1500.0, "revenue_before": 1000.0}, _)
        self.assertEqual(result.trend, "up")
        self.assertEqual(result.score, 100)
        self.assertEqual(health.assess({"revenue_recent": 100.0, "revenue_before": 0.0}, _).trend, "up")
