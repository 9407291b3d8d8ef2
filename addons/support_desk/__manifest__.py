{
    "name": "Support Desk",
    "summary": "Support tickets from email and portal with business-hours SLAs, warnings and escalations",
    "version": "19.0.1.0.0",
    "category": "Services/Support",
    "license": "LGPL-3",
    "author": "CRM Suite Contributors",
    "website": "https://github.com/crm-suite/crm-suite",
    "development_status": "Alpha",
    "maintainers": ["crm-suite"],
    "depends": ["mail", "portal", "rating", "resource"],
    "data": [
        "security/support_desk_security.xml",
        "views/res_config_settings_views.xml",
        "views/support_desk_menus.xml",
    ],
    "application": True,
}
