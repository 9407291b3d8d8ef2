{
    "name": "Suite Batch Jobs",
    "summary": "The one way the suite's crons work: claim a batch, process it, commit progress, resume",
    "version": "19.0.1.0.0",
    "category": "Hidden/Tools",
    "license": "LGPL-3",
    "author": "CRM Suite Contributors",
    "website": "https://github.com/crm-suite/crm-suite",
    "development_status": "Alpha",
    "maintainers": ["crm-suite"],
    "depends": ["base"],
    "data": [],
    "installable": True,
}
