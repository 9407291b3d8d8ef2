import importlib.util
from datetime import datetime

from odoo import Command
from odoo.tests import TransactionCase, new_test_user
from odoo.tools import file_path


def at(text):
    """A naive UTC datetime from "YYYY-MM-DD HH:MM"."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


def run_migration(env, version, from_version, script="post-migration"):
    """Run one of the addon's migration scripts on the test's cursor, as an upgrade from ``from_version`` would."""
    path = file_path(f"support_desk/migrations/{version}/{script}.py")
    spec = importlib.util.spec_from_file_location(f"support_desk_migration_{script}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    env.flush_all()
    module.migrate(env.cr, from_version)
    env.invalidate_all()


def office_calendars(env):
    """The deadline tables' calendars: ``(paris, new_york)``.

    Paris works 9-12 and 13-17 on weekdays and has a public holiday on Wednesday 14 January
    2026 (all day in Paris: from 23:00 UTC the day before); New York works 9-17 on weekdays.
    """
    Calendar = env["resource.calendar"]
    paris_hours = []
    for day in "01234":
        paris_hours += [
            Command.create(
                {"name": "Morning", "dayofweek": day, "hour_from": 9, "hour_to": 12, "day_period": "morning"}
            ),
            Command.create(
                {"name": "Afternoon", "dayofweek": day, "hour_from": 13, "hour_to": 17, "day_period": "afternoon"}
            ),
        ]
    paris = Calendar.create({"name": "Paris office", "tz": "Europe/Paris", "attendance_ids": paris_hours})
    env["resource.calendar.leaves"].create(
        {
            "name": "Public holiday",
            "calendar_id": paris.id,
            "date_from": at("2026-01-13 23:00"),
            "date_to": at("2026-01-14 22:59"),
        }
    )
    new_york = Calendar.create(
        {
            "name": "New York office",
            "tz": "America/New_York",
            "attendance_ids": [
                Command.create(
                    {"name": "Day", "dayofweek": day, "hour_from": 9, "hour_to": 17, "day_period": "morning"}
                )
                for day in "01234"
            ],
        }
    )
    return paris, new_york


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
