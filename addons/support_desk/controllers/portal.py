from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.support_ticket import DESCRIPTION_MAX_LENGTH, SUBJECT_MAX_LENGTH

OPEN_DOMAIN = [("is_closed", "=", False)]
CLOSED_DOMAIN = [("is_closed", "=", True)]


class SupportPortal(CustomerPortal):
    """The customer's side of the support desk: their company's tickets, a new ticket, replies, closing."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "support_ticket_count" in counters:
            Ticket = request.env["support.ticket"]
            values["support_ticket_count"] = Ticket.search_count([]) if Ticket.has_access("read") else 0
        return values

    @http.route(["/my/tickets", "/my/tickets/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_tickets(self, page=1, sortby=None, filterby=None, **kw):
        Ticket = request.env["support.ticket"]
        sortings = {
            "date": {"label": request.env._("Newest"), "order": "create_date desc, id desc"},
            "number": {"label": request.env._("Reference"), "order": "number desc"},
            "stage": {"label": request.env._("Stage"), "order": "stage_id, create_date desc"},
        }
        filters = {
            "open": {"label": request.env._("Open"), "domain": OPEN_DOMAIN},
            "closed": {"label": request.env._("Closed"), "domain": CLOSED_DOMAIN},
            "all": {"label": request.env._("All"), "domain": []},
        }
        sortby = sortby if sortby in sortings else "date"
        filterby = filterby if filterby in filters else "open"
        # the record rules restrict the search to the tickets of the user's company
        domain = filters[filterby]["domain"]
        count = Ticket.search_count(domain)
        pager = portal_pager(
            url="/my/tickets",
            url_args={"sortby": sortby, "filterby": filterby},
            total=count,
            page=page,
            step=self._items_per_page,
        )
        tickets = Ticket.search(
            domain, order=sortings[sortby]["order"], limit=self._items_per_page, offset=pager["offset"]
        )
        request.session["my_tickets_history"] = tickets.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "tickets": tickets,
                "page_name": "support_ticket",
                "pager": pager,
                "default_url": "/my/tickets",
                "searchbar_sortings": sortings,
                "sortby": sortby,
                "searchbar_filters": filters,
                "filterby": filterby,
            }
        )
        return request.render("support_desk.portal_my_tickets", values)

    @http.route("/my/tickets/<int:ticket_id>", type="http", auth="public", website=True)
    def portal_my_ticket(self, ticket_id, access_token=None, **kw):
        try:
            ticket_sudo = self._document_check_access("support.ticket", ticket_id, access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        values = self._get_page_view_values(
            ticket_sudo,
            access_token,
            {"ticket": ticket_sudo, "page_name": "support_ticket", "rating_token": False},
            "my_tickets_history",
            False,
        )
        if ticket_sudo.is_closed and ticket_sudo.partner_id and not ticket_sudo.rating_last_value:
            # checked above: the visitor may read this ticket; the token lets them rate it once
            values["rating_token"] = ticket_sudo._rating_get_access_token()
        return request.render("support_desk.portal_my_ticket", values)

    @http.route("/my/tickets/new", type="http", auth="user", methods=["GET", "POST"], website=True)
    def portal_ticket_new(self, **post):
        Ticket = request.env["support.ticket"]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "support_ticket",
                "error": {},
                "post": post,
                "subject_max_length": SUBJECT_MAX_LENGTH,
                "description_max_length": DESCRIPTION_MAX_LENGTH,
            }
        )
        if request.httprequest.method == "POST":
            subject = (post.get("subject") or "").strip()
            # a browser sends line breaks as CRLF: counted as one, as the form's limit counts them
            description = (post.get("description") or "").replace("\r\n", "\n").strip()
            values["error"] = Ticket._portal_ticket_errors(subject, description)
            if not values["error"]:
                ticket = Ticket._portal_create_ticket(subject, description)
                return request.redirect(ticket.get_portal_url())
        return request.render("support_desk.portal_ticket_new", values)

    @http.route("/my/tickets/<int:ticket_id>/close", type="http", auth="user", methods=["POST"], website=True)
    def portal_ticket_close(self, ticket_id, access_token=None, **kw):
        try:
            ticket_sudo = self._document_check_access("support.ticket", ticket_id, access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        if not ticket_sudo.is_closed:
            ticket_sudo._portal_close(request.env.user.partner_id)
        return request.redirect(ticket_sudo.get_portal_url())
