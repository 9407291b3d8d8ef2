from . import res_config_settings
from . import support_stage
from . import support_tag
from . import support_team
from . import support_ticket
from . import support_ticket_type
from . import support_sla
from . import support_sla_target
