{
    "name": "Customer 360",
    "summary": "One screen per customer: pipeline, orders, deliveries, invoices, tickets and health; KPI dashboards",
    "version": "19.0.1.0.0",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "CRM Suite Contributors",
    "website": "https://github.com/crm-suite/crm-suite",
    "development_status": "Alpha",
    "maintainers": ["crm-suite"],
    "depends": [
        "crm_lead_scoring",
        "support_desk",
        "sale_quote_to_cash",
        "sale_crm",
        "sale_stock",
        "account",
        "spreadsheet_dashboard",
    ],
    "data": [
        "views/res_config_settings_views.xml",
        "views/res_partner_views.xml",
        "views/crm_customer_360_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "crm_customer_360/static/tests/tours/**/*",
        ],
    },
    "application": True,
}
