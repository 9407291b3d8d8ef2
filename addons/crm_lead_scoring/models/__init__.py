from . import res_company
from . import res_config_settings
from . import crm_lead_scoring_group
from . import crm_lead_scoring_rule
from . import crm_lead_scoring_model
from . import crm_lead_score_history
from . import crm_lead_scoring_threshold
from . import crm_lead
