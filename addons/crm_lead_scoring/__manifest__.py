{
    "name": "CRM Lead Scoring",
    "summary": "Lead scores that learn from won and lost history, explain themselves and act on thresholds",
    "version": "19.0.1.5.0",
    "category": "Sales/CRM",
    "license": "LGPL-3",
    "author": "CRM Suite Contributors",
    "website": "https://github.com/crm-suite/crm-suite",
    "development_status": "Alpha",
    "maintainers": ["crm-suite"],
    "depends": ["crm", "suite_batch_job"],
    "external_dependencies": {"python": ["lightgbm", "scikit-learn", "numpy"]},
    "data": [
        "security/ir.model.access.csv",
        "security/crm_lead_scoring_security.xml",
        "data/ir_cron_data.xml",
        "views/crm_lead_views.xml",
        "views/crm_lead_scoring_config_views.xml",
        "views/res_config_settings_views.xml",
        "views/crm_lead_scoring_menus.xml",
    ],
    "demo": ["demo/crm_lead_scoring_demo.xml"],
    "assets": {
        "web.assets_tests": [
            "crm_lead_scoring/static/tests/tours/**/*",
        ],
    },
}
