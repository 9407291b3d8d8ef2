from odoo import Command
from odoo.tests import TransactionCase, new_test_user


class SupportCase(TransactionCase):
    """Two teams with their agents, an administrator, a customer company with a portal user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_create_nolog=True))
        cls.company = cls.env.company
        # the demo policies (a database installed with demo data) must not match the tests' tickets
        cls.env["support.sla"].search([]).active = False
        cls.manager = new_test_user(cls.env, "sd_manager", groups="support_desk.group_support_manager")
        cls.agent = new_test_user(cls.env, "sd_agent", groups="support_desk.group_support_user")
        cls.agent_2 = new_test_user(cls.env, "sd_agent_2", groups="support_desk.group_support_user")
        cls.agent_other = new_test_user(cls.env, "sd_agent_other", groups="support_desk.group_support_user")
        cls.team = cls.env["support.team"].create(
            {
                "name": "Care",
                "member_ids": [Command.set((cls.agent | cls.agent_2).ids)],
                "leader_id": cls.manager.id,
            }
        )
        cls.other_team = cls.env["support.team"].create(
            {"name": "Billing", "member_ids": [Command.set(cls.agent_other.ids)]}
        )
        cls.customer = cls.env["res.partner"].create({"name": "Client Co", "is_company": True})
        cls.contact = cls.env["res.partner"].create(
            {"name": "Claire Client", "email": "claire@client-co.example", "parent_id": cls.customer.id}
        )
        cls.portal_user = new_test_user(
            cls.env, "sd_portal", groups="base.group_portal", partner_id=cls.contact.id, email=cls.contact.email
        )
        cls.stranger = cls.env["res.partner"].create({"name": "Other Co", "email": "someone@other.example"})
        cls.stage_new = cls.env.ref("support_desk.stage_new")
        cls.stage_waiting = cls.env.ref("support_desk.stage_waiting")
        cls.stage_solved = cls.env.ref("support_desk.stage_solved")

    @classmethod
    def _ticket(cls, **values):
        return cls.env["support.ticket"].create({"name": "Broken delivery", "team_id": cls.team.id, **values})
