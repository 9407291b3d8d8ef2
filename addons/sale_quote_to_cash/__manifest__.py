{
    "name": "Quote to Cash",
    "summary": "An accepted quotation becomes order, delivery, invoice and matched payment, traced and retryable",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "CRM Suite Contributors",
    "website": "https://github.com/crm-suite/crm-suite",
    "development_status": "Alpha",
    "maintainers": ["crm-suite"],
    "depends": ["sale_management", "sale_crm", "sale_stock", "account"],
    "data": [
        "security/sale_quote_to_cash_security.xml",
        "views/res_config_settings_views.xml",
        "views/sale_quote_to_cash_menus.xml",
    ],
}
