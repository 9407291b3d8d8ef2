from . import crm_c360_pipeline_report
from . import crm_c360_demand_report
