import { registry } from "@web/core/registry";

/**
 * An agent's day: their tickets show the SLA status, the ticket at risk opens with its
 * clocks, a public reply meets the first-reply target, closing meets the resolution.
 */
registry.category("web_tour.tours").add("support_desk_agent_tour", {
    url: "/odoo/action-support_desk.action_support_ticket_my",
    steps: () => [
        {
            content: "My tickets show the one at risk, with its SLA status",
            trigger:
                ".o_data_row:contains('Tour: parcel lost'):contains('At Risk'), " +
                ".o_kanban_record:contains('Tour: parcel lost'):contains('At Risk')",
        },
        {
            content: "The ticket on track is there too",
            trigger:
                ".o_data_row:contains('Tour: invoice copy'):contains('On Track'), " +
                ".o_kanban_record:contains('Tour: invoice copy'):contains('On Track')",
        },
        {
            content: "Open the ticket at risk",
            trigger:
                ".o_data_row:contains('Tour: parcel lost') .o_data_cell[name='name'], " +
                ".o_kanban_record:contains('Tour: parcel lost')",
            run: "click",
        },
        {
            content: "The form says the SLA is at risk",
            trigger: ".o_form_view .ribbon:contains('SLA at Risk')",
        },
        {
            content: "Open the SLA tab",
            trigger: ".o_notebook a.nav-link[name='sla']",
            run: "click",
        },
        {
            content: "The first reply clock is running",
            trigger: ".o_field_widget[name='sla_line_ids'] .o_data_row:contains('First Reply'):contains('Ongoing')",
        },
        {
            content: "Write to the customer",
            trigger: "button.o-mail-Chatter-sendMessage",
            run: "click",
        },
        {
            trigger: ".o-mail-Composer-input",
            run: "edit We found your parcel: it arrives tomorrow morning.",
        },
        {
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The reply is in the chatter",
            trigger: ".o-mail-Message:contains('We found your parcel')",
        },
        {
            content: "Close the ticket",
            trigger: ".o_form_view button[name='action_close']",
            run: "click",
        },
        {
            content: "Closed: it can be reopened",
            trigger: ".o_form_view button[name='action_reopen']",
        },
        {
            trigger: ".o_notebook a.nav-link[name='sla']",
            run: "click",
        },
        {
            content: "The first reply was in time",
            trigger: ".o_field_widget[name='sla_line_ids'] .o_data_row:contains('First Reply'):contains('Achieved')",
        },
        {
            content: "And the resolution",
            trigger: ".o_field_widget[name='sla_line_ids'] .o_data_row:contains('Resolution'):contains('Achieved')",
        },
    ],
});
