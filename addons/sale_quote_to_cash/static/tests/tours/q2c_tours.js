import { registry } from "@web/core/registry";

/**
 * A salesperson records on the quotation that the customer said yes by email.
 */
registry.category("web_tour.tours").add("sale_quote_to_cash_accept_tour", {
    steps: () => [
        {
            content: "Record the customer's acceptance",
            trigger: ".o_form_view button[name='action_q2c_accept']",
            run: "click",
        },
        {
            content: "Who said yes",
            trigger: ".modal .o_field_widget[name='accepted_by'] input",
            run: "edit Tour Buyer",
        },
        {
            content: "The customer said yes by email",
            trigger: ".modal .o_field_widget[name='channel'] input[data-value='email']",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name='note'] textarea",
            run: "edit Yes from the buyer, order reference PO-77",
        },
        {
            trigger: ".modal button[name='action_accept']",
            run: "click",
        },
        {
            content: "The order is queued for the runner, not confirmed in this request",
            trigger: ".o_form_view:not(:has(.modal)) .o_field_widget[name='q2c_state']:contains('Queued')",
        },
        {
            content: "The acceptance is in the chatter",
            trigger: ".o-mail-Message:contains('Accepted by Tour Buyer')",
        },
    ],
});

/**
 * A manager follows the order on the board once the runner took it, then the stuck one.
 */
registry.category("web_tour.tours").add("sale_quote_to_cash_board_tour", {
    steps: () => [
        {
            content: "The board shows the order waiting for its payment",
            trigger: ".o_kanban_group:contains('Waiting Payment') .o_kanban_record:contains('Tour Customer')",
            isActive: ["desktop"],
        },
        {
            content: "The stuck order is in its column with its reason",
            trigger: ".o_kanban_group:contains('Exception') .o_kanban_record:contains('Tour Stuck Customer'):contains('Lock Date')",
            isActive: ["desktop"],
        },
        {
            content: "Open the view switcher",
            trigger: ".o_cp_switch_buttons .dropdown-toggle",
            isActive: ["mobile"],
            run: "click",
        },
        {
            content: "Switch to the list",
            trigger: ".dropdown-item:has(.oi-view-list), .o_switch_view.o_list",
            isActive: ["mobile"],
            run: "click",
        },
        {
            content: "The list shows the stuck order with its reason",
            trigger: ".o_data_row:contains('Tour Stuck Customer'):contains('Exception')",
            isActive: ["mobile"],
        },
        {
            content: "Open the order",
            trigger: ".o_data_row:contains('Tour Customer'):not(:contains('Stuck')) .o_data_cell[name='name'], " +
                ".o_kanban_record:contains('Tour Customer'):not(:contains('Stuck'))",
            run: "click",
        },
        {
            content: "The form says where it stands",
            trigger: ".o_form_view .o_field_widget[name='q2c_state']:contains('Waiting Payment')",
        },
        {
            content: "Open its quote-to-cash history",
            trigger: ".o_notebook a.nav-link[name='quote_to_cash']",
            run: "click",
        },
        {
            content: "Each step is traced",
            trigger: ".o_field_widget[name='q2c_log_ids'] .o_data_row:contains('Invoice'):contains('created and posted')",
        },
        {
            trigger: ".o_field_widget[name='q2c_log_ids'] .o_data_row:contains('Acceptance'):contains('Tour Buyer')",
        },
    ],
});
