import { registry } from "@web/core/registry";

/**
 * A salesperson's day: the pipeline shows each lead's grade and score, the list
 * sorts by score, and the best lead's form explains its score.
 */
registry.category("web_tour.tours").add("crm_lead_scoring_salesperson_tour", {
    url: "/odoo/crm",
    steps: () => [
        {
            content: "The pipeline shows the hot lead's grade and score",
            trigger: ".o_kanban_record:contains('Tour Hot Lead') .o_lead_score_badge:contains('A'):contains('80')",
        },
        {
            content: "Switch to the list",
            trigger: ".o_switch_view.o_list",
            isActive: ["desktop"],
            run: "click",
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
            content: "Sort by score (ascending first)",
            trigger: ".o_list_view th[data-name='score']",
            run: "click",
        },
        {
            trigger: ".o_list_view th[data-name='score'] .fa-sort-asc",
        },
        {
            content: "Sort by score, best first",
            trigger: ".o_list_view th[data-name='score']",
            run: "click",
        },
        {
            trigger: ".o_list_view th[data-name='score'] .fa-sort-desc",
        },
        {
            content: "The hot lead comes first",
            trigger: ".o_data_row:first-child .o_data_cell[name='name']:contains('Tour Hot Lead')",
            run: "click",
        },
        {
            content: "The form shows the score and grade",
            trigger: ".o_form_view .o_lead_score [name='score']:contains('80')",
        },
        {
            content: "Open the explanation",
            trigger: ".o_notebook a.nav-link[name='lead_score']",
            run: "click",
        },
        {
            content: "The explanation names the reasons",
            trigger: ".o_lead_score_explanation tr:contains('Big deal'):contains('+50.0')",
        },
        {
            trigger: ".o_lead_score_explanation tr:contains('Asked for a demo'):contains('+30.0')",
        },
    ],
});
