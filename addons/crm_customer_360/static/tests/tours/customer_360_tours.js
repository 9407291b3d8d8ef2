import { registry } from "@web/core/registry";

/**
 * An account manager opens a customer: the summary shows the orders, the late delivery,
 * the overdue invoice and the tickets; the orders figure opens their list.
 */
registry.category("web_tour.tours").add("crm_customer_360_partner_tour", {
    steps: () => [
        {
            content: "The summary counts the customer's two orders",
            trigger: ".o_form_view .o_c360_tile[data-kind='orders'] .o_c360_value:contains('2')",
        },
        {
            content: "The late delivery is flagged",
            trigger: ".o_c360_tile.o_c360_alert[data-kind='deliveries_late'] .o_c360_detail:contains('1 late')",
        },
        {
            content: "The overdue invoice is flagged for an accountant",
            trigger: ".o_c360_tile.o_c360_alert[data-kind='invoices_overdue']",
        },
        {
            content: "Two open tickets",
            trigger: ".o_c360_tile[data-kind='tickets'] .o_c360_value:contains('2')",
        },
        {
            content: "Open the orders",
            trigger: ".o_c360_tile[data-kind='orders']",
            run: "click",
        },
        {
            content: "The list of the customer's orders",
            trigger: ".o_breadcrumb:contains('Sales Orders')",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Tour Acme')",
            isActive: ["desktop"],
        },
        {
            content: "No order of another customer",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour Other')))",
            isActive: ["desktop"],
        },
        {
            trigger: ".o_kanban_view .o_kanban_record:contains('Tour Acme')",
            isActive: ["mobile"],
        },
        {
            content: "No order of another customer",
            trigger: ".o_kanban_view:not(:has(.o_kanban_record:contains('Tour Other')))",
            isActive: ["mobile"],
        },
    ],
});

/**
 * A support agent answers "where is my parcel?" from the ticket: the customer's open deliveries,
 * late first, with their status, and the delivery one click away.
 */
registry.category("web_tour.tours").add("crm_customer_360_ticket_tour", {
    steps: () => [
        {
            content: "The late delivery comes first, with its status",
            trigger: ".o_c360_deliveries .o_c360_delivery:first-child.text-danger .badge:contains('Ready')",
        },
        {
            content: "Open it",
            trigger: ".o_c360_deliveries .o_c360_delivery:first-child",
            run: "click",
        },
        {
            content: "The delivery's form",
            trigger: ".o_form_view .o_field_widget[name='picking_type_id']",
        },
    ],
});

/**
 * A ticket about an order (the customer quoted its reference): the deliveries listed are that
 * order's only, here one on time, and the order is named above them.
 */
registry.category("web_tour.tours").add("crm_customer_360_ticket_order_tour", {
    steps: () => [
        {
            content: "The ticket names its order",
            trigger: ".o_field_widget[name='sale_order_id'] input:value(/S\\d+/)",
        },
        {
            content: "The deliveries are those of the order",
            trigger: ".o_c360_order:contains('Deliveries of the order')",
        },
        {
            content: "Only the order's delivery, not the customer's late one",
            trigger: ".o_c360_deliveries:not(:has(.o_c360_delivery.text-danger)) .o_c360_delivery:only-child",
        },
    ],
});

/**
 * A sales manager opens the Customer 360 dashboard: its charts load without an error.
 */
registry.category("web_tour.tours").add("crm_customer_360_dashboard_tour", {
    steps: () => [
        {
            content: "The dashboards app is open",
            trigger: ".o_spreadsheet_dashboard_action",
        },
        {
            content: "Pick the Customer 360 dashboard",
            trigger: ".o_search_panel_category_value:contains('Customer 360')",
            run: "click",
            isActive: ["desktop"],
        },
        {
            content: "Its charts are drawn",
            trigger: ".o_renderer .o-figure",
            isActive: ["desktop"],
        },
        {
            content: "No error",
            trigger: "body:not(:has(.o_error_dialog))",
        },
    ],
});
