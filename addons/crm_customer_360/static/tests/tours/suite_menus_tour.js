import { registry } from "@web/core/registry";

/**
 * Opens a menu the way a user does: from the apps menu to the app, then
 * through its sections to the leaf, on a desktop navbar or a phone sidebar.
 */
function openMenuSteps(app, sections, leaf, expected) {
    const desktop = [
        { isActive: ["desktop"], trigger: ".o_navbar_apps_menu button:enabled", run: "click" },
        { isActive: ["desktop"], trigger: `.o_app[data-menu-xmlid="${app}"]`, run: "click" },
    ];
    if (sections.length) {
        desktop.push({
            isActive: ["desktop"],
            trigger: `.o_menu_sections button[data-menu-xmlid="${sections[0]}"]`,
            run: "click",
        });
        desktop.push({
            isActive: ["desktop"],
            trigger: `.o-dropdown--menu [data-menu-xmlid="${leaf}"]`,
            run: "click",
        });
    } else {
        desktop.push({
            isActive: ["desktop"],
            trigger: `.o_menu_sections [data-menu-xmlid="${leaf}"]`,
            run: "click",
        });
    }
    const mobile = [
        { isActive: ["mobile"], trigger: ".o_main_navbar .o_menu_toggle", run: "click" },
        { isActive: ["mobile"], trigger: ".o_sidebar_topbar a.btn-primary", run: "click" },
        { isActive: ["mobile"], trigger: `.o_app_menu_sidebar .o_app[data-menu-xmlid="${app}"]`, run: "click" },
        { isActive: ["mobile"], trigger: ".o_main_navbar .o_menu_toggle", run: "click" },
        { isActive: ["mobile"], trigger: `.o_app_menu_sidebar li[data-menu-xmlid="${leaf}"]`, run: "click" },
    ];
    return [
        ...desktop,
        ...mobile,
        { content: `${leaf} is open`, trigger: expected },
    ];
}

registry.category("web_tour.tours").add("crm_suite_menus_tour", {
    url: "/odoo",
    steps: () => [
        ...openMenuSteps(
            "crm_customer_360.menu_customer_360_root",
            [],
            "crm_customer_360.menu_customer_360_customers",
            ".o_kanban_view .o_kanban_record:not(.o_kanban_ghost)"
        ),
        ...openMenuSteps(
            "crm_customer_360.menu_customer_360_root",
            ["crm_customer_360.menu_customer_360_config"],
            "crm_customer_360.menu_customer_360_settings",
            ".o_setting_container [name='customer_health_threshold']"
        ),
        ...openMenuSteps(
            "crm.crm_menu_root",
            ["crm.crm_menu_config", "crm_lead_scoring.menu_lead_scoring_config"],
            "crm_lead_scoring.menu_lead_scoring_settings",
            ".o_setting_container [name='scoring_min_closed_leads']"
        ),
        ...openMenuSteps(
            "support_desk.menu_support_root",
            ["support_desk.menu_support_config"],
            "support_desk.menu_support_settings",
            ".o_setting_container [name='support_sla_warning_share']"
        ),
        ...openMenuSteps(
            "sale.sale_menu_root",
            ["sale_quote_to_cash.menu_q2c_root"],
            "sale_quote_to_cash.menu_q2c_settings",
            ".o_setting_container [name='q2c_batch_size']"
        ),
        ...openMenuSteps(
            "sale.sale_menu_root",
            ["sale_quote_to_cash.menu_q2c_root"],
            "sale_quote_to_cash.menu_q2c_board",
            ".o_kanban_view .o_kanban_record"
        ),
    ],
});
