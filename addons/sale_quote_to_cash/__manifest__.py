{
    "name": "Quote to Cash",
    "summary": "An accepted quotation becomes order, delivery, invoice and matched payment, traced and retryable",
    "version": "19.0.1.3.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "CRM Suite Contributors",
    "website": "https://github.com/crm-suite/crm-suite",
    "development_status": "Alpha",
    "maintainers": ["crm-suite"],
    "depends": ["sale_management", "sale_crm", "sale_stock", "account", "suite_batch_job"],
    "data": [
        "security/sale_quote_to_cash_security.xml",
        "security/ir.model.access.csv",
        "data/sale_quote_to_cash_data.xml",
        "views/sale_q2c_profile_views.xml",
        "views/sale_order_views.xml",
        "views/sale_q2c_report_views.xml",
        "views/res_config_settings_views.xml",
        "views/sale_quote_to_cash_menus.xml",
    ],
    "demo": ["demo/sale_quote_to_cash_demo.xml"],
    "uninstall_hook": "uninstall_hook",
    "assets": {
        "web.assets_tests": [
            "sale_quote_to_cash/static/tests/tours/**/*",
        ],
    },
}
