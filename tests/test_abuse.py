"""The abuse suite: every role tries every model and route of the suite, over HTTP.

Each role gets fresh records of a customer (company A's customer "Abuse Customer A"):
a ticket in a team the role is not in, an opportunity and a quotation of another
salesperson, the scoring and quote-to-cash configuration, the reports' rows about
them. The role then tries, through the web client's own JSON-RPC routes
(``/web/dataset/call_kw`` and ``/web/dataset/call_button``, with the session cookie
of a login), to read, write, create and unlink each of them, to read the fields
that are internal assessments, and to press each button the suite adds; and the
portal routes of the suite, as a browser would.

The roles: ``manager_a`` (company A's managers of sales, support, stock and accounting: the
control, so that a refusal elsewhere is not a broken target), ``anon`` (no session),
``portal_a`` (a contact of the customer), ``portal_b`` (a contact of another customer),
``own_sales`` (a salesperson with their own documents only), ``agent_x`` (a support agent of
another team), ``other_co`` (company B's managers, who are not in company A). Stages, tags and
ticket types have no company: they are shared configuration, as Odoo's CRM stages are.

The outcome of each try is one word: ``ok`` (it worked), ``no`` (refused for
access: AccessError, MissingError, session expired, redirected away), ``user``
(refused by a business rule with a message: UserError, ValidationError). The test
prints the whole table and fails on any cell that differs from ``EXPECTED``.

The second test lists every ``sudo()`` of the suite, by file and function, and
fails when one is not in ``SUDO_PROOFS`` with the test that shows it safe (or when
a listed proof no longer exists).
"""

import ast
import re
from pathlib import Path

# every function of the suite that calls sudo(), with the test that shows it safe
from sudo_proofs import SUDO_PROOFS

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ROOT / "addons"

ROLES = ("manager_a", "anon", "portal_a", "portal_b", "own_sales", "agent_x", "other_co")

ACCESS_ERRORS = {
    "odoo.exceptions.AccessError",
    "odoo.exceptions.AccessDenied",
    "odoo.exceptions.MissingError",
    "odoo.http.SessionExpiredException",
}
USER_ERRORS = {"odoo.exceptions.UserError", "odoo.exceptions.ValidationError", "odoo.exceptions.RedirectWarning"}

# What each role may do. Columns follow ROLES. Keep it sorted as the test prints it.
EXPECTED = """
model                      operation                         manager_a anon portal_a portal_b own_sales agent_x other_co
crm.c360.demand.report     create                            no        no   no       no       no        no      no
crm.c360.demand.report     read                              ok        no   no       no       no        no      no
crm.c360.demand.report     unlink                            no        no   no       no       no        no      no
crm.c360.demand.report     write                             no        no   no       no       no        no      no
crm.c360.pipeline.report   create                            no        no   no       no       no        no      no
crm.c360.pipeline.report   read                              ok        no   no       no       no        no      no
crm.c360.pipeline.report   unlink                            no        no   no       no       no        no      no
crm.c360.pipeline.report   write                             no        no   no       no       no        no      no
crm.lead                   button:action_scoring_recompute   ok        no   no       no       no        no      no
crm.lead                   create                            ok        no   no       no       ok        no      ok
crm.lead                   read                              ok        no   no       no       no        no      no
crm.lead                   unlink                            ok        no   no       no       no        no      no
crm.lead                   write                             ok        no   no       no       no        no      no
crm.lead.score.history     create                            ok        no   no       no       no        no      no
crm.lead.score.history     read                              ok        no   no       no       no        no      no
crm.lead.score.history     unlink                            ok        no   no       no       no        no      no
crm.lead.score.history     write                             ok        no   no       no       no        no      no
crm.lead.scoring.group     create                            ok        no   no       no       no        no      ok
crm.lead.scoring.group     read                              ok        no   no       no       ok        no      no
crm.lead.scoring.group     unlink                            ok        no   no       no       no        no      no
crm.lead.scoring.group     write                             ok        no   no       no       no        no      no
crm.lead.scoring.model     button:action_train_now           user      no   user     user     user      user    no
crm.lead.scoring.model     create                            ok        no   no       no       no        no      ok
crm.lead.scoring.model     read                              ok        no   no       no       ok        no      no
crm.lead.scoring.model     unlink                            ok        no   no       no       no        no      no
crm.lead.scoring.model     write                             ok        no   no       no       no        no      no
crm.lead.scoring.rule      create                            ok        no   no       no       no        no      ok
crm.lead.scoring.rule      read                              ok        no   no       no       ok        no      no
crm.lead.scoring.rule      unlink                            ok        no   no       no       no        no      no
crm.lead.scoring.rule      write                             ok        no   no       no       no        no      no
crm.lead.scoring.threshold create                            ok        no   no       no       no        no      ok
crm.lead.scoring.threshold read                              ok        no   no       no       ok        no      no
crm.lead.scoring.threshold unlink                            ok        no   no       no       no        no      no
crm.lead.scoring.threshold write                             ok        no   no       no       no        no      no
res.partner                button:action_c360_measure_health ok        no   no       no       ok        no      ok
res.partner                create                            ok        no   no       no       ok        no      ok
res.partner                read                              ok        no   ok       no       ok        ok      ok
res.partner                read_internal                     ok        no   no       no       ok        ok      ok
res.partner                unlink                            no        no   no       no       no        no      no
res.partner                write                             ok        no   no       no       ok        no      ok
route                      GET:/my/tickets                   ok        no   ok       no       no        no      no
route                      GET:/my/tickets/<id>              ok        no   ok       no       no        no      no
route                      GET:/my/tickets/<id>?token        ok        ok   ok       ok       ok        ok      ok
route                      GET:/my/tickets/new               ok        no   ok       ok       ok        ok      ok
route                      POST:/my/tickets/<id>/close       ok        no   ok       no       no        no      no
route                      POST:/my/tickets/new              ok        no   ok       ok       ok        ok      ok
sale.order                 button:action_q2c_accept          ok        no   no       no       no        no      no
sale.order                 button:action_q2c_approve         user      no   no       no       no        no      no
sale.order                 button:action_q2c_refuse          ok        no   no       no       no        no      no
sale.order                 button:action_q2c_retry           ok        no   no       no       no        no      no
sale.order                 create                            ok        no   no       no       ok        no      ok
sale.order                 read                              ok        no   ok       no       no        no      no
sale.order                 read_internal                     ok        no   no       no       no        no      no
sale.order                 unlink                            ok        no   no       no       no        no      no
sale.order                 write                             ok        no   no       no       no        no      no
sale.order                 write_internal                    no        no   no       no       no        no      no
sale.q2c.dso.report        create                            no        no   no       no       no        no      no
sale.q2c.dso.report        read                              ok        no   no       no       no        no      no
sale.q2c.dso.report        unlink                            no        no   no       no       no        no      no
sale.q2c.dso.report        write                             no        no   no       no       no        no      no
sale.q2c.log               create                            no        no   no       no       no        no      no
sale.q2c.log               read                              ok        no   no       no       no        no      no
sale.q2c.log               unlink                            no        no   no       no       no        no      no
sale.q2c.log               write                             no        no   no       no       no        no      no
sale.q2c.profile           create                            ok        no   no       no       no        no      ok
sale.q2c.profile           read                              ok        no   no       no       ok        no      no
sale.q2c.profile           unlink                            ok        no   no       no       no        no      no
sale.q2c.profile           write                             ok        no   no       no       no        no      no
sale.q2c.report            create                            no        no   no       no       no        no      no
sale.q2c.report            read                              ok        no   no       no       no        no      no
sale.q2c.report            unlink                            no        no   no       no       no        no      no
sale.q2c.report            write                             no        no   no       no       no        no      no
support.backlog.report     create                            no        no   no       no       no        no      no
support.backlog.report     read                              ok        no   no       no       no        no      no
support.backlog.report     unlink                            no        no   no       no       no        no      no
support.backlog.report     write                             no        no   no       no       no        no      no
support.sla                create                            ok        no   no       no       no        no      ok
support.sla                read                              ok        no   no       no       no        ok      no
support.sla                unlink                            ok        no   no       no       no        no      no
support.sla                write                             ok        no   no       no       no        no      no
support.sla.report         create                            no        no   no       no       no        no      no
support.sla.report         read                              ok        no   no       no       no        no      no
support.sla.report         unlink                            no        no   no       no       no        no      no
support.sla.report         write                             no        no   no       no       no        no      no
support.sla.target         create                            ok        no   no       no       no        no      no
support.sla.target         read                              ok        no   no       no       no        ok      no
support.sla.target         unlink                            ok        no   no       no       no        no      no
support.sla.target         write                             ok        no   no       no       no        no      no
support.stage              create                            ok        no   no       no       no        no      ok
support.stage              read                              ok        no   ok       ok       no        ok      ok
support.stage              unlink                            ok        no   no       no       no        no      ok
support.stage              write                             ok        no   no       no       no        no      ok
support.tag                create                            ok        no   no       no       no        ok      ok
support.tag                read                              ok        no   no       no       no        ok      ok
support.tag                unlink                            ok        no   no       no       no        no      ok
support.tag                write                             ok        no   no       no       no        ok      ok
support.team               button:action_open_tickets        ok        no   no       no       ok        ok      no
support.team               create                            ok        no   no       no       no        no      ok
support.team               read                              ok        no   no       no       ok        ok      no
support.team               unlink                            user      no   no       no       no        no      no
support.team               write                             ok        no   no       no       no        no      no
support.ticket             button:action_assign_to_me        ok        no   no       no       no        no      no
support.ticket             button:action_close               ok        no   no       no       no        no      no
support.ticket             button:action_reopen              ok        no   no       no       no        no      no
support.ticket             create                            ok        no   no       no       no        no      no
support.ticket             message_post                      ok        no   no       no       no        no      no
support.ticket             read                              ok        no   ok       no       no        no      no
support.ticket             unlink                            ok        no   no       no       no        no      no
support.ticket             write                             ok        no   no       no       no        no      no
support.ticket.sla         create                            no        no   no       no       no        no      no
support.ticket.sla         read                              ok        no   no       no       no        no      no
support.ticket.sla         unlink                            no        no   no       no       no        no      no
support.ticket.sla         write                             no        no   no       no       no        no      no
support.ticket.type        create                            ok        no   no       no       no        no      ok
support.ticket.type        read                              ok        no   ok       ok       no        ok      ok
support.ticket.type        unlink                            ok        no   no       no       no        no      ok
support.ticket.type        write                             ok        no   no       no       no        no      ok
"""


def parse_table(text):
    rows = {}
    for line in text.strip().splitlines()[1:]:
        cells = line.split()
        if not cells:
            continue
        model, operation, *outcomes = cells
        rows[(model, operation)] = dict(zip(ROLES, outcomes, strict=True))
    return rows


def format_table(rows):
    header = f"{'model':<26} {'operation':<33} " + " ".join(ROLES)
    lines = [header]
    for (model, operation), outcomes in sorted(rows.items()):
        cells = " ".join(f"{outcomes[role]:<{len(role)}}" for role in ROLES)
        lines.append(f"{model:<26} {operation:<33} {cells}".rstrip())
    return "\n".join(lines)


@tagged("post_install", "-at_install")
class TestAbuse(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.company_a = env.ref("base.main_company")
        cls.company_b = env["res.company"].create({"name": "Abuse Company B"})
        cls.customer_a = env["res.partner"].create({"name": "Abuse Customer A", "is_company": True})
        cls.customer_b = env["res.partner"].create({"name": "Abuse Customer B", "is_company": True})
        managers = (
            "sales_team.group_sale_manager,support_desk.group_support_manager,"
            "stock.group_stock_manager,account.group_account_manager"
        )
        cls.users = {
            # the control: company A's managers reach everything, so a refusal below is not a broken target
            "manager_a": new_test_user(env, "abuse_manager_a", groups=managers),
            "portal_a": new_test_user(env, "abuse_portal_a", groups="base.group_portal"),
            "portal_b": new_test_user(env, "abuse_portal_b", groups="base.group_portal"),
            "own_sales": new_test_user(env, "abuse_salesman", groups="sales_team.group_sale_salesman"),
            "agent_x": new_test_user(env, "abuse_agent", groups="support_desk.group_support_user"),
            "other_co": new_test_user(
                env,
                "abuse_other_company",
                groups=managers,
                company_id=cls.company_b.id,
                company_ids=[Command.set(cls.company_b.ids)],
            ),
        }
        cls.users["portal_a"].partner_id.write({"parent_id": cls.customer_a.id, "email": "alice@abuse-a.example"})
        cls.users["portal_b"].partner_id.write({"parent_id": cls.customer_b.id, "email": "bob@abuse-b.example"})
        # the people whose records the roles try to reach
        cls.seller = new_test_user(env, "abuse_seller", groups="sales_team.group_sale_salesman")
        cls.agent_y = new_test_user(env, "abuse_agent_y", groups="support_desk.group_support_user")
        cls.team_x = env["support.team"].create(
            {"name": "Abuse Team X", "member_ids": [Command.set(cls.users["agent_x"].ids)]}
        )
        cls.product = env["product.product"].create({"name": "Abuse Widget", "list_price": 100.0, "type": "consu"})

    # ------------------------------------------------------------------
    # The records each role tries
    # ------------------------------------------------------------------

    def _targets(self, role):
        env = self.env
        team = env["support.team"].create(
            {
                "name": f"Abuse Team Y {role}",
                "member_ids": [Command.set(self.agent_y.ids)],
                "company_id": self.company_a.id,
            }
        )
        ticket = env["support.ticket"].create(
            {
                "name": "Abuse ticket",
                "team_id": team.id,
                "partner_id": self.users["portal_a"].partner_id.id,
                "user_id": self.agent_y.id,
            }
        )
        policy = env["support.sla"].create({"name": f"Abuse SLA {role}", "company_id": self.company_a.id})
        lead = env["crm.lead"].create(
            {
                "name": "Abuse opportunity",
                "type": "opportunity",
                "partner_id": self.customer_a.id,
                "user_id": self.seller.id,
                "expected_revenue": 1000.0,
                "company_id": self.company_a.id,
            }
        )
        order = env["sale.order"].create(
            {
                "partner_id": self.customer_a.id,
                "user_id": self.seller.id,
                "opportunity_id": lead.id,
                "company_id": self.company_a.id,
                "order_line": [Command.create({"product_id": self.product.id, "product_uom_qty": 2})],
            }
        )
        scoring_model = env["crm.lead.scoring.model"].create({"company_id": self.company_a.id})
        history = env["crm.lead.score.history"].create({"lead_id": lead.id, "score": 40, "reason": "manual"})
        env.flush_all()
        # held by its checks, as the runner leaves it (written in SQL: the point is the state, not who set it)
        env.cr.execute("UPDATE sale_order SET q2c_state = 'blocked' WHERE id = %s", [order.id])
        env.invalidate_all()
        targets = {
            "support.team": team,
            "support.ticket": ticket,
            "support.ticket.sla": ticket.sla_line_ids[:1],
            "support.sla": policy,
            "support.sla.target": env["support.sla.target"].create(
                {"sla_id": policy.id, "metric": "resolution", "hours": 8.0}
            ),
            "support.stage": env["support.stage"].create({"name": f"Abuse stage {role}"}),
            "support.tag": env["support.tag"].create({"name": f"Abuse tag {role}"}),
            "support.ticket.type": env["support.ticket.type"].create({"name": f"Abuse type {role}"}),
            "support.sla.report": env["support.sla.report"].search([("ticket_id", "=", ticket.id)], limit=1),
            "support.backlog.report": env["support.backlog.report"].search(
                [("company_id", "=", self.company_a.id)], limit=1
            ),
            "crm.lead": lead,
            "crm.lead.score.history": history,
            "crm.lead.scoring.group": env["crm.lead.scoring.group"].create({"name": f"Abuse group {role}"}),
            "crm.lead.scoring.model": scoring_model,
            "crm.lead.scoring.rule": env["crm.lead.scoring.rule"].create({"name": f"Abuse rule {role}", "points": 5}),
            "crm.lead.scoring.threshold": env["crm.lead.scoring.threshold"].create({"name": f"Abuse threshold {role}"}),
            "sale.order": order,
            "sale.q2c.log": env["sale.q2c.log"].create({"order_id": order.id, "step": "check", "result": "blocked"}),
            "sale.q2c.profile": env["sale.q2c.profile"].create(
                {"name": f"Abuse profile {role}", "company_id": self.company_a.id}
            ),
            "sale.q2c.report": env["sale.q2c.report"].search([("order_id", "=", order.id)], limit=1),
            "sale.q2c.dso.report": env["sale.q2c.dso.report"].search([("company_id", "=", self.company_a.id)], limit=1),
            "res.partner": self.customer_a,
            "crm.c360.pipeline.report": env["crm.c360.pipeline.report"].search([("lead_id", "=", lead.id)], limit=1),
            "crm.c360.demand.report": env["crm.c360.demand.report"].search([("lead_id", "=", lead.id)], limit=1),
        }
        env.flush_all()
        return targets

    def _specs(self, targets, role):
        """Per model: the write and create values, the internal fields, the buttons."""
        now = fields.Datetime.to_string(fields.Datetime.now())
        ticket = targets["support.ticket"]
        return {
            "support.team": {
                "write": {"name": f"Abused {role}"},
                "create": {"name": f"Abuse team {role}"},
                "buttons": ["action_open_tickets"],
            },
            "support.sla": {"write": {"name": f"Abused {role}"}, "create": {"name": f"Abuse SLA 2 {role}"}},
            "support.sla.target": {
                "write": {"hours": 99.0},
                "create": {"sla_id": targets["support.sla"].id, "metric": "first_reply", "hours": 2.0},
            },
            "support.stage": {"write": {"name": f"Abused {role}"}, "create": {"name": f"Abuse stage 2 {role}"}},
            "support.tag": {"write": {"name": f"Abused {role}"}, "create": {"name": f"Abuse tag 2 {role}"}},
            "support.ticket.type": {"write": {"name": f"Abused {role}"}, "create": {"name": f"Abuse type 2 {role}"}},
            "support.ticket": {
                "write": {"name": f"Abused {role}"},
                "create": {"name": "Abuse", "team_id": targets["support.team"].id},
                "buttons": ["action_assign_to_me", "action_close", "action_reopen"],
                "post": True,
            },
            "support.ticket.sla": {
                "write": {"target_hours": 999.0},
                "create": {
                    "ticket_id": ticket.id,
                    "metric": "resolution",
                    "target_hours": 1.0,
                    "date_start": now,
                    "date_checkpoint": now,
                },
            },
            "support.sla.report": {},
            "support.backlog.report": {},
            "crm.lead": {
                "write": {"name": f"Abused {role}"},
                "create": {"name": "Abuse lead", "partner_id": self.customer_a.id},
                "buttons": ["action_scoring_recompute"],
            },
            "crm.lead.score.history": {
                "write": {"score": 99},
                "create": {"lead_id": targets["crm.lead"].id, "score": 99, "reason": "manual"},
            },
            "crm.lead.scoring.group": {
                "write": {"name": f"Abused {role}"},
                "create": {"name": f"Abuse group 2 {role}"},
            },
            "crm.lead.scoring.model": {"write": {"auc": 0.99}, "create": {}, "buttons": ["action_train_now"]},
            "crm.lead.scoring.rule": {"write": {"points": 99}, "create": {"name": f"Abuse rule 2 {role}", "points": 1}},
            "crm.lead.scoring.threshold": {
                "write": {"name": f"Abused {role}"},
                "create": {"name": f"Abuse threshold 2 {role}"},
            },
            "sale.order": {
                "write": {"note": f"Abused {role}"},
                "write_internal": {"q2c_state": False},
                "create": {"partner_id": self.customer_a.id},
                "internal": ["q2c_blocked_reason", "q2c_exception_reason", "q2c_approved_amount"],
                "buttons": ["action_q2c_accept", "action_q2c_approve", "action_q2c_refuse", "action_q2c_retry"],
            },
            "sale.q2c.log": {
                "write": {"result": "done"},
                "create": {"order_id": targets["sale.order"].id, "step": "check", "result": "done"},
            },
            "sale.q2c.profile": {"write": {"name": f"Abused {role}"}, "create": {"name": f"Abuse profile 2 {role}"}},
            "sale.q2c.report": {},
            "sale.q2c.dso.report": {},
            "res.partner": {
                "write": {"comment": f"Abused {role}"},
                "create": {"name": f"Abuse contact {role}"},
                "internal": ["c360_health", "c360_health_reasons", "c360_churn_risk"],
                "buttons": ["action_c360_measure_health"],
            },
            "crm.c360.pipeline.report": {},
            "crm.c360.demand.report": {},
        }

    # ------------------------------------------------------------------
    # HTTP
    # ------------------------------------------------------------------

    def _login(self, role):
        self.env.flush_all()
        if role == "anon":
            self.authenticate(None, None)
        else:
            user = self.users[role]
            self.authenticate(user.login, user.login)

    def _rpc(self, route, model, method, args, kwargs=None):
        self.env.flush_all()
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        }
        with mute_logger("odoo.http", "odoo.addons.base.models.ir_rule", "odoo.models", "odoo.sql_db"):
            response = self.url_open(route, json=payload, allow_redirects=False)
        self.env.invalidate_all()
        if response.status_code != 200:
            return "no" if response.status_code in (401, 403, 404) else f"http{response.status_code}"
        data = response.json()
        if "error" not in data:
            return "ok"
        name = data["error"]["data"]["name"]
        if name in ACCESS_ERRORS:
            return "no"
        if name in USER_ERRORS:
            return "user"
        return "err:" + name.rsplit(".", 1)[-1]

    def _try_model(self, model, record, spec):
        """The outcome of each operation of one model for the logged-in role."""
        outcomes = {}
        call = "/web/dataset/call_kw"
        if not record:
            return {"read": "none"}
        outcomes["read"] = self._rpc(call, model, "read", [record.ids, ["display_name"]])
        if spec.get("internal"):
            outcomes["read_internal"] = self._rpc(call, model, "read", [record.ids, spec["internal"]])
        for button in spec.get("buttons", ()):
            kwargs = {"context": {}}
            outcomes[f"button:{button}"] = self._rpc("/web/dataset/call_button", model, button, [record.ids], kwargs)
        if spec.get("post"):
            outcomes["message_post"] = self._rpc(
                call, model, "message_post", [record.ids], {"body": "Abuse", "message_type": "comment"}
            )
        outcomes["write"] = self._rpc(call, model, "write", [record.ids, spec.get("write") or {"display_name": "x"}])
        if spec.get("write_internal"):
            outcomes["write_internal"] = self._rpc(call, model, "write", [record.ids, spec["write_internal"]])
        if "create" in spec:
            outcomes["create"] = self._rpc(call, model, "create", [spec["create"]])
        else:
            outcomes["create"] = self._rpc(call, model, "create", [{}])
        return outcomes

    def _csrf(self):
        page = self.url_open("/my/tickets/new", allow_redirects=False)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        return match.group(1) if match else ""

    def _try_routes(self, role, targets):
        ticket = targets["support.ticket"]
        self.env.flush_all()
        outcomes = {}
        listing = self.url_open("/my/tickets?filterby=all", allow_redirects=False)
        outcomes["GET:/my/tickets"] = "ok" if listing.status_code == 200 and ticket.number in listing.text else "no"
        page = self.url_open(f"/my/tickets/{ticket.id}", allow_redirects=False)
        outcomes["GET:/my/tickets/<id>"] = "ok" if page.status_code == 200 and ticket.number in page.text else "no"
        token = ticket.sudo()._portal_ensure_token()
        page = self.url_open(f"/my/tickets/{ticket.id}?access_token={token}", allow_redirects=False)
        outcomes["GET:/my/tickets/<id>?token"] = (
            "ok" if page.status_code == 200 and ticket.number in page.text else "no"
        )
        new_form = self.url_open("/my/tickets/new", allow_redirects=False)
        outcomes["GET:/my/tickets/new"] = "ok" if new_form.status_code == 200 else "no"
        csrf = self._csrf()
        before = self.env["support.ticket"].search_count([])
        with mute_logger("odoo.http"):
            self.url_open(
                "/my/tickets/new",
                data={"subject": "Abuse", "description": "Abuse", "csrf_token": csrf},
                allow_redirects=False,
            )
        self.env.invalidate_all()
        outcomes["POST:/my/tickets/new"] = "ok" if self.env["support.ticket"].search_count([]) > before else "no"
        with mute_logger("odoo.http"):
            self.url_open(f"/my/tickets/{ticket.id}/close", data={"csrf_token": csrf}, allow_redirects=False)
        self.env.invalidate_all()
        outcomes["POST:/my/tickets/<id>/close"] = "ok" if ticket.is_closed else "no"
        return outcomes

    # ------------------------------------------------------------------
    # The tests
    # ------------------------------------------------------------------

    def test_every_role_every_model(self):
        observed = {}
        for role in ROLES:
            targets = self._targets(role)
            specs = self._specs(targets, role)
            self._login(role)
            for model, spec in specs.items():
                for operation, outcome in self._try_model(model, targets[model], spec).items():
                    observed.setdefault((model, operation), {})[role] = outcome
            self._login(role)
            for operation, outcome in self._try_routes(role, targets).items():
                observed.setdefault(("route", operation), {})[role] = outcome
            # last, children before their parents: what a role may delete is gone for the others
            self._login(role)
            for model in reversed(list(specs)):
                if targets[model]:
                    outcome = self._rpc("/web/dataset/call_kw", model, "unlink", [targets[model].ids])
                    observed.setdefault((model, "unlink"), {})[role] = outcome
        table = format_table(observed)
        print("\n" + table)
        expected = parse_table(EXPECTED)
        differences = [
            f"{model} {operation} as {role}: expected {expected.get((model, operation), {}).get(role)}, got {outcome}"
            for (model, operation), outcomes in sorted(observed.items())
            for role, outcome in outcomes.items()
            if expected.get((model, operation), {}).get(role) != outcome
        ]
        missing = sorted(set(expected) - set(observed))
        if differences or missing:
            self.fail("\n".join(differences + [f"not tried: {row}" for row in missing]) + "\n\nObserved:\n" + table)


# ----------------------------------------------------------------------
# Every sudo() of the suite, and the test that shows it safe
# ----------------------------------------------------------------------


def suite_sudo_calls():
    """``{"addon/path.py::Class.method": number of sudo() calls}`` outside tests and migrations."""
    found = {}
    for path in sorted(ADDONS.rglob("*.py")):
        relative = path.relative_to(ADDONS).as_posix()
        if "/tests/" in relative:
            continue

        def walk(node, scope, relative=relative):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    walk(child, [*scope, child.name])
                    continue
                if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr == "sudo":
                    key = f"{relative}::{'.'.join(scope) or '<module>'}"
                    found[key] = found.get(key, 0) + 1
                walk(child, scope)

        walk(ast.parse(path.read_text(encoding="utf-8")), [])
    return found


def proof_exists(reference):
    """A reference ``path::Class::test_name`` (from the repository root) names a real test."""
    path, *names = reference.split("::")
    file = ROOT / path
    if not file.exists():
        return False
    tree = ast.parse(file.read_text(encoding="utf-8"))
    defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    return all(name in defined for name in names)


def test_every_sudo_has_a_proof():
    calls = suite_sudo_calls()
    unlisted = sorted(set(calls) - set(SUDO_PROOFS))
    stale = sorted(set(SUDO_PROOFS) - set(calls))
    missing_proofs = sorted(
        f"{key}: {proof}" for key, proof in SUDO_PROOFS.items() if key in calls and not proof_exists(proof)
    )
    print("\n" + "\n".join(f"{key} ({count}) -> {SUDO_PROOFS.get(key)}" for key, count in sorted(calls.items())))
    assert not unlisted, f"sudo() calls without a proof in SUDO_PROOFS: {unlisted}"
    assert not stale, f"SUDO_PROOFS lists functions that no longer call sudo(): {stale}"
    assert not missing_proofs, f"proofs that name no existing test: {missing_proofs}"
