"""The plain-Python engine, tested directly with small inputs."""

import dataclasses
import json
from unittest.mock import patch

import numpy as np

from odoo.tests import BaseCase

from ..engine import blend, features, metrics, rules
from ..engine import model as learning


class TestRulesEngine(BaseCase):
    def setUp(self):
        super().setUp()
        self.rules = {
            1: rules.Rule(1, "Company email", 30, 0),
            2: rules.Rule(2, "Asked for a demo", 40, 7),
            3: rules.Rule(3, "Email received", 10, 7),
            4: rules.Rule(4, "Student", -50, 0),
        }
        self.groups = {7: rules.Group(7, "Engagement", 45)}

    def test_fit_and_engagement_points_add_up(self):
        result = rules.score({10: [1]}, {10: [(3, 1.0, 1)]}, self.rules, self.groups)
        score, factors = result[10]
        self.assertEqual(score, 40)
        self.assertEqual(sum(points for _label, points in factors), score)

    def test_group_cap_limits_and_is_explained(self):
        score, factors = rules.score({10: [2]}, {10: [(3, 2.0, 2)]}, self.rules, self.groups)[10]
        # 40 + 2 * 10 = 60 capped to 45
        self.assertEqual(score, 45)
        self.assertIn(("Engagement: limited to +45", -15.0), factors)
        self.assertAlmostEqual(sum(points for _label, points in factors), score)

    def test_score_stays_between_0_and_100(self):
        score, factors = rules.score({10: [4]}, {}, self.rules, self.groups)[10]
        self.assertEqual(score, 0)
        self.assertAlmostEqual(sum(points for _label, points in factors), 0)
        score, factors = rules.score({10: [1, 2]}, {10: [(3, 10.0, 10)]}, self.rules, {}, base=50)[10]
        self.assertEqual(score, 100)
        self.assertAlmostEqual(sum(points for _label, points in factors), 100)

    def test_decay_halves_per_half_life(self):
        self.assertEqual(rules.decay_weight(0, 30), 1.0)
        self.assertAlmostEqual(rules.decay_weight(30, 30), 0.5)
        self.assertAlmostEqual(rules.decay_weight(90, 30), 0.125)
        self.assertEqual(rules.decay_weight(-5, 30), 1.0)


class TestModelEngine(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rng = np.random.default_rng(3)
        n = 1500
        source = rng.choice(["web", "fair", "phone"], n)
        revenue = rng.lognormal(8, 1, n)
        logit = -1.0 + 1.5 * (source == "web") - 1.0 * (source == "fair") + 0.6 * (np.log(revenue) - 8)
        cls.y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        cls.columns = [
            features.Column("source", "Source", features.CATEGORY, [(s, s.title()) for s in source]),
            features.Column("revenue", "Expected revenue", features.LOG, list(revenue)),
            features.Column("empty", "Never set", features.NUMERIC, [None] * n),
        ]

    def test_model_beats_a_constant(self):
        model, quality, (measured_idx, _measured_p) = learning.train(self.columns, self.y, seed=0)
        # measured out of fold: every lead, each by a fold model that did not learn from it
        self.assertEqual(len(measured_idx), len(self.y))
        y_test = self.y[measured_idx]
        constant = np.full(len(y_test), self.y.mean())
        self.assertGreater(quality["auc"], 0.7)
        self.assertLess(quality["log_loss"], metrics.log_loss(y_test, constant) - 0.05)
        self.assertLess(quality["ece"], 0.08)
        self.assertEqual(len(quality["lift"]), 10)
        self.assertGreater(quality["lift"][0]["lift"], quality["lift"][-1]["lift"])

    def test_a_large_history_is_measured_on_one_holdout(self):
        """Above LARGE_HISTORY closed leads the candidates are measured on one stratified holdout
        (each trained once, not once per fold); the quality is the holdout's, and the stored model
        still learns from every lead."""
        with patch.object(learning, "LARGE_HISTORY", 1000):
            model, quality, (measured_idx, measured_p) = learning.train(self.columns, self.y, seed=0)
        n = len(self.y)
        self.assertEqual(len(measured_idx), round(n * learning.HOLDOUT_SHARE))
        self.assertEqual(len(set(measured_idx.tolist())), len(measured_idx))
        self.assertEqual((quality["holdout_count"], quality["train_count"]), (len(measured_idx), n))
        self.assertAlmostEqual(self.y[measured_idx].mean(), self.y.mean(), delta=0.01, msg="stratified")
        self.assertAlmostEqual(quality["auc"], metrics.roc_auc(self.y[measured_idx], measured_p))
        self.assertGreater(quality["auc"], 0.7)
        self.assertEqual(model["won"] + model["lost"], n)

    def test_explanations_add_up_to_the_probability(self):
        model, _quality, _holdout = learning.train(self.columns, self.y, seed=0)
        predictor = learning.Predictor(model)
        p, parts = predictor.explain(self.columns)
        np.testing.assert_allclose(p, predictor.predict(self.columns))
        np.testing.assert_allclose(parts.sum(axis=1), p - predictor.baseline, atol=1e-9)
        web = next(i for i, v in enumerate(self.columns[0].values) if v[0] == "web")
        self.assertGreater(parts[web, 0], 0, "a web lead's source must count for it")
        self.assertEqual(predictor.featurizer.describe(0, self.columns[0].values[web]), "Source: Web")

    def test_the_value_of_a_restricted_column_is_kept_apart(self):
        model, _quality, _holdout = learning.train(self.columns, self.y, seed=0)
        columns = [self.columns[0], dataclasses.replace(self.columns[1], groups="some.group"), self.columns[2]]
        _p, explanations = learning.Predictor(model).explanations(columns, 3)
        labels = [label for label, _part in explanations.factors(0)]
        restricted = [label for label in labels if isinstance(label, features.Restricted)]
        self.assertEqual(len(restricted), 1)
        self.assertEqual((restricted[0].label, restricted[0].groups), ("Expected revenue", "some.group"))
        self.assertTrue(restricted[0].detail.startswith("Expected revenue: "), restricted[0].detail)
        self.assertIn("Source: ", [label for label in labels if isinstance(label, str)][0])
        self.assertEqual(learning.subset(columns[1], [0]).groups, "some.group")

    def test_too_few_outcomes_is_refused(self):
        with self.assertRaises(learning.NotEnoughData):
            learning.train(self.columns, np.zeros(len(self.y), dtype=int))

    def test_model_survives_a_json_round_trip(self):
        model, _quality, _holdout = learning.train(self.columns, self.y, seed=0)
        again = learning.Predictor(json.loads(json.dumps(model)))
        np.testing.assert_allclose(again.predict(self.columns), learning.Predictor(model).predict(self.columns))


class TestTreeModel(BaseCase):
    """What a linear model could not learn, and what the stored trees must keep."""

    def _train(self, columns, y):
        model, quality, _measured = learning.train(columns, np.asarray(y), seed=0)
        return model, quality, learning.Predictor(json.loads(json.dumps(model)))

    def test_a_number_whose_effect_rises_then_falls(self):
        rng = np.random.default_rng(5)
        size = rng.uniform(0, 100, 3000)
        y = rng.random(3000) < np.where(np.abs(size - 50) < 15, 0.7, 0.15)
        columns = [features.Column("size", "Size", features.NUMERIC, list(size))]
        model, quality, predictor = self._train(columns, y)
        self.assertGreater(quality["auc"], 0.75)
        p = predictor.predict([features.Column("size", "Size", features.NUMERIC, [5.0, 50.0, 95.0])])
        self.assertGreater(p[1], p[0] + 0.3)
        self.assertGreater(p[1], p[2] + 0.3)
        shape = model["report"]["facts"][0]["shape"]
        middle = max(shape, key=lambda point: point[1])[0]
        self.assertTrue(35 <= middle <= 65, shape)

    def test_ordered_bands_need_not_be_a_straight_line(self):
        rng = np.random.default_rng(6)
        band = rng.integers(0, 10, 3000)
        y = rng.random(3000) < np.where(np.isin(band, (2, 7)), 0.7, 0.2)
        columns = [features.Column("band", "Revenue band", features.NUMERIC, [float(b) for b in band])]
        _model, quality, predictor = self._train(columns, y)
        self.assertGreater(quality["auc"], 0.65, "the best possible here is 0.69")
        p = predictor.predict([features.Column("band", "Revenue band", features.NUMERIC, [2.0, 3.0, 7.0, 8.0])])
        self.assertGreater(min(p[0], p[2]), max(p[1], p[3]) + 0.3)

    def test_missing_is_a_value_of_its_own(self):
        rng = np.random.default_rng(7)
        known = rng.random(2000) < 0.5
        y = rng.random(2000) < np.where(known, 0.6, 0.2)
        values = [float(v) if k else None for k, v in zip(known, rng.uniform(0, 10, 2000), strict=True)]
        columns = [features.Column("score", "Test score", features.NUMERIC, values)]
        _model, _quality, predictor = self._train(columns, y)
        p = predictor.predict([features.Column("score", "Test score", features.NUMERIC, [None, 5.0])])
        self.assertGreater(p[1], p[0] + 0.25)

    def test_explanations_are_exact_with_categories_tags_and_pairs(self):
        rng = np.random.default_rng(8)
        n = 2500
        source = rng.choice(["web", "fair", "phone", "rare"], n, p=[0.4, 0.3, 0.298, 0.002])
        tagged_vip = rng.random(n) < 0.3
        amount = rng.lognormal(8, 1, n)
        # a pair: the web wins only for large amounts
        logit = -1 + 2.0 * ((source == "web") & (amount > 3000)) + 1.0 * tagged_vip
        y = rng.random(n) < 1 / (1 + np.exp(-logit))
        columns = [
            features.Column("source", "Source", features.CATEGORY, [(s, s.title()) for s in source]),
            features.Column("tags", "Tags", features.MULTI, [[(1, "VIP")] if t else [] for t in tagged_vip]),
            features.Column("amount", "Amount", features.LOG, list(amount)),
        ]
        model, _quality, predictor = self._train(columns, y)
        p, parts = predictor.explain(columns)
        np.testing.assert_allclose(p, predictor.predict(columns), atol=1e-12)
        np.testing.assert_allclose(parts.sum(axis=1), p - predictor.baseline, atol=1e-9)
        # a value never seen, or too rare, still scores and explains
        unseen = [
            features.Column("source", "Source", features.CATEGORY, [("radio", "Radio"), None]),
            features.Column("tags", "Tags", features.MULTI, [[(99, "New")], None]),
            features.Column("amount", "Amount", features.LOG, [None, 10.0]),
        ]
        p, parts = predictor.explain(unseen)
        np.testing.assert_allclose(parts.sum(axis=1), p - predictor.baseline, atol=1e-9)
        shares = [fact["share"] for fact in model["report"]["facts"]]
        self.assertAlmostEqual(sum(shares), 1.0, places=6)
        self.assertTrue(model["booster"].startswith("tree"), "LightGBM's own text format, no pickle")

    def test_a_model_stored_before_the_trees_still_scores_exactly(self):
        columns = [
            features.Column("source", "Source", features.CATEGORY, [("web", "Web"), ("fair", "Fair")] * 10),
            features.Column("amount", "Amount", features.LOG, [1000.0, 5000.0] * 10),
        ]
        featurizer = features.Featurizer(min_count=1).fit(columns)
        encoded = featurizer.transform(columns)
        legacy = {
            "featurizer": featurizer.to_dict(),
            "coef": [0.8, -0.4, 0.3],
            "intercept": -0.2,
            "means": encoded.mean(axis=0).tolist(),
            "won": 10,
            "lost": 10,
        }
        predictor = learning.Predictor(legacy)
        self.assertIsInstance(predictor, learning.LinearPredictor)
        p, parts = predictor.explain(columns)
        np.testing.assert_allclose(p, 1 / (1 + np.exp(-(encoded @ np.array(legacy["coef"]) - 0.2))))
        np.testing.assert_allclose(parts.sum(axis=1), p - predictor.baseline, atol=1e-12)
        self.assertEqual(learning.feature_count(legacy), 3)


class TestBlend(BaseCase):
    def test_rules_alone(self):
        score, source, factors = blend.combine((35.0, [("Company email", 35.0)]), None, 0.7)
        self.assertEqual((score, source), (35.0, "rules"))
        self.assertEqual(factors, [{"label": "Company email", "points": 35.0}])

    def test_blend_keeps_the_sum(self):
        model = (0.6, 0.3, [("Source: Web", 0.25), ("Expected revenue: 5,000", 0.05)])
        score, source, factors = blend.combine((20.0, [("Company email", 20.0)]), model, 0.75)
        self.assertEqual(source, "blend")
        self.assertAlmostEqual(score, 0.75 * 60 + 0.25 * 20)
        self.assertAlmostEqual(sum(f["points"] for f in factors), score, places=3)

    def test_model_alone_when_no_rule_applies(self):
        score, source, _factors = blend.combine((0.0, []), (0.4, 0.3, [("Source: Web", 0.1)]), 0.7, has_rules=False)
        self.assertEqual((round(score, 6), source), (40.0, "model"))

    def test_matching_a_rule_never_lowers_the_score(self):
        model = (0.4, 0.3, [("Source: Web", 0.1)])
        unmatched, _source, _factors = blend.combine((0.0, []), model, 0.7)
        matched, _source, _factors = blend.combine((10.0, [("Company email", 10.0)]), model, 0.7)
        self.assertGreater(matched, unmatched)

    def test_restricted_words_are_stored_with_their_detail_apart(self):
        restricted = features.Restricted("Overdue amount", "150 overdue", "some.group")
        _score, _source, factors = blend.combine((0.0, []), (0.4, 0.3, [(restricted, 0.1)]), 0.7, has_rules=False)
        self.assertIn(
            {"label": "Overdue amount", "points": 10.0, "detail": "150 overdue", "groups": "some.group"}, factors
        )

    def test_compress_keeps_the_total(self):
        factors = [(f"factor {i}", float(i)) for i in range(1, 15)]
        compressed = blend.compress(factors, top=5)
        self.assertEqual(len(compressed), 6)
        self.assertEqual(compressed[-1]["label"], "Other factors")
        self.assertAlmostEqual(sum(f["points"] for f in compressed), sum(range(1, 15)))

    def test_compress_folds_small_factors_into_one_line(self):
        factors = [("Other factors", 0.5)] + [(f"factor {i}", float(i)) for i in range(1, 15)]
        compressed = blend.compress(factors, top=5)
        labels = [f["label"] for f in compressed]
        self.assertEqual(labels.count("Other factors"), 1)
        self.assertAlmostEqual(sum(f["points"] for f in compressed), 0.5 + sum(range(1, 15)))

    def test_top_parts_are_the_largest_in_absolute_value(self):
        parts = np.array([[0.1, -0.9, 0.3, 0.05], [0.0, 0.2, -0.25, 0.4]])
        self.assertEqual([sorted(row) for row in learning.top_parts(parts, 2).tolist()], [[1, 2], [2, 3]])
        self.assertEqual(learning.top_parts(parts, 6).shape, (2, 4), "fewer parts than asked: all of them")

    def test_grades(self):
        self.assertEqual([blend.grade(s, 70, 45, 20) for s in (90, 70, 69, 45, 20, 19)], list("AABBCD"))


class TestFeaturizer(BaseCase):
    def test_near_constant_column_does_not_explode(self):
        ages = [1e-5 + i * 1e-7 for i in range(50)]
        featurizer = features.Featurizer().fit([features.Column("age", "Age", features.LOG, ages)])
        encoded = featurizer.transform([features.Column("age", "Age", features.LOG, [0.0, 400.0])])
        self.assertTrue((abs(encoded) <= features.CLIP).all())
        self.assertLess(abs(encoded[0, 0]), 0.01)

    def test_unknown_category_and_missing_number(self):
        columns = [
            features.Column("src", "Source", features.CATEGORY, [("a", "A")] * 6 + [("b", "B")] * 2),
            features.Column("rev", "Revenue", features.NUMERIC, [1.0, None, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]),
        ]
        featurizer = features.Featurizer(min_count=5).fit(columns)
        self.assertEqual(featurizer.feature_names, ["src=a", "rev", "rev:missing"])
        row = featurizer.transform(
            [
                features.Column("src", "Source", features.CATEGORY, [("zz", "Zz")]),
                features.Column("rev", "Revenue", features.NUMERIC, [None]),
            ]
        )
        self.assertEqual(row[0, 0], 0.0)
        self.assertEqual(row[0, 2], 1.0)
        self.assertEqual(featurizer.describe(1, None), "Revenue: unknown")
