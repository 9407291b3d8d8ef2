import time

from odoo.tests import tagged

from .common import Customer360Common


@tagged("post_install", "-at_install")
class TestTicketOrder(Customer360Common):
    """A ticket about an order: found from the reference the customer quotes, and showing that
    order's deliveries (shipped ones too) instead of all the customer's open deliveries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shipped = cls.make_order(cls.ann, 2)
        picking = cls.shipped.picking_ids
        picking.move_ids.quantity = 2
        picking.move_ids.picked = True
        picking.button_validate()
        cls.pending = cls.make_order(cls.acme, 1)
        cls.foreign = cls.make_order(cls.other, 1)

    def test_the_quoted_reference_of_the_customers_order_links_the_ticket(self):
        ticket = self.make_ticket(self.ann, name=f"Where is my parcel? Order {self.shipped.name}")
        self.assertEqual(ticket.sale_order_id, self.shipped)
        in_message = self.make_ticket(
            self.acme, name="Still waiting", description=f"<p>Hello, my order <b>{self.pending.name}</b> is late.</p>"
        )
        self.assertEqual(in_message.sale_order_id, self.pending)

    def test_another_customers_order_is_not_linked(self):
        ticket = self.make_ticket(self.ann, name=f"About {self.foreign.name}")
        self.assertFalse(ticket.sale_order_id)
        # the order set by hand is kept, even when the subject quotes another one
        kept = self.make_ticket(self.ann, name=f"About {self.pending.name}", sale_order_id=self.shipped.id)
        self.assertEqual(kept.sale_order_id, self.shipped)

    def test_tickets_made_together_are_each_linked_to_their_own_order(self):
        tickets = self.env["support.ticket"].create(
            [
                {"name": f"Parcel {order.name}", "partner_id": partner.id, "team_id": self.support_team.id}
                for order, partner in ((self.shipped, self.ann), (self.pending, self.acme), (self.foreign, self.acme))
            ]
        )
        self.assertEqual(
            [ticket.sale_order_id for ticket in tickets], [self.shipped, self.pending, self.env["sale.order"]]
        )

    def test_a_support_agent_without_sales_rights_gets_the_link(self):
        agent = self.env["res.users"].create(
            {
                "name": "Agent",
                "login": "c360_agent",
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
                "group_ids": [(6, 0, [self.env.ref("support_desk.group_support_user").id])],
            }
        )
        self.assertFalse(agent.has_group("sales_team.group_sale_salesman"))
        self.assertFalse(
            self.env["sale.order"].with_user(agent).has_access("read"),
            agent.group_ids.mapped("full_name"),
        )
        ticket = (
            self.env["support.ticket"]
            .with_user(agent)
            .create(
                {"name": f"Where is {self.pending.name}?", "partner_id": self.acme.id, "team_id": self.support_team.id}
            )
        )
        self.assertEqual(ticket.sudo().sale_order_id, self.pending)
        # the agent reads the ticket and its summary: the order's reference, no sales figures
        self.env.invalidate_all()
        self.assertEqual(ticket.read(["sale_order_id"])[0]["sale_order_id"], (self.pending.id, self.pending.name))
        self.env.invalidate_all()  # nothing of the order left in the cache by the read above
        summary = self.summary(ticket)
        self.assertEqual(summary["order_name"], self.pending.name)
        self.assertEqual(summary["orders"], 0)
        self.assertFalse(summary["delivery_list"])  # nor deliveries without the inventory rights
        agent.group_ids |= self.env.ref("stock.group_stock_user")
        summary = self.summary(ticket)
        self.assertEqual([row["name"] for row in summary["delivery_list"]], self.pending.picking_ids.mapped("name"))

    def test_the_ticket_shows_its_orders_deliveries_shipped_ones_too(self):
        ticket = self.make_ticket(self.ann, name=f"Parcel {self.shipped.name}")
        summary = self.summary(ticket)
        self.assertEqual(summary["order_name"], self.shipped.display_name)
        self.assertEqual([row["name"] for row in summary["delivery_list"]], self.shipped.picking_ids.mapped("name"))
        self.assertEqual(summary["delivery_list"][0]["state"], "done")
        self.assertFalse(summary["delivery_list"][0]["late"])
        # without an order, the customer's open deliveries (the pending order's), not the shipped one
        summary = self.summary(self.make_ticket(self.ann, name="Where is my parcel?"))
        self.assertNotIn("order_name", summary)
        self.assertEqual([row["name"] for row in summary["delivery_list"]], self.pending.picking_ids.mapped("name"))

    def test_the_deliveries_of_many_tickets_are_read_at_once(self):
        Ticket = self.env["support.ticket"]
        one = self.make_ticket(self.ann, name=f"Parcel {self.shipped.name}")
        many = one | Ticket.create(
            [
                {"name": f"Parcel {order.name}", "partner_id": self.acme.id, "team_id": self.support_team.id}
                for order in (self.pending, self.make_order(self.acme, 1), self.make_order(self.ann, 1))
            ]
        )
        self.assertEqual(len(many.sale_order_id), 4)

        def queries(tickets):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            contexts = tickets._c360_contexts()
            self.assertEqual(len(contexts), len(tickets))
            return self.env.cr.sql_log_count - before

        queries(many)  # the access rules and groups read once into their caches
        self.assertEqual(queries(many), queries(one))

    def test_a_huge_subject_or_message_is_scanned_in_bounded_time(self):
        """A letter followed by endless digits made the old pattern backtrack for minutes: a
        megabyte of them in the message, 200,000 in the subject, and the ticket is made at once."""
        for values in (
            {"name": "Logs attached", "description": f"<p>S{'1' * 1_000_000}x</p>"},
            {"name": f"S{'1' * 200_000}x"},
        ):
            started = time.perf_counter()
            ticket = self.make_ticket(self.ann, **values)
            self.assertLess(time.perf_counter() - started, 2.0)
            self.assertFalse(ticket.sale_order_id)

    def test_a_reference_at_the_start_of_a_long_message_is_found(self):
        started = time.perf_counter()
        ticket = self.make_ticket(
            self.acme, name="Still waiting", description=f"<p>About {self.pending.name}:</p><p>{'9' * 1_000_000}</p>"
        )
        self.assertLess(time.perf_counter() - started, 2.0)
        self.assertEqual(ticket.sale_order_id, self.pending)
