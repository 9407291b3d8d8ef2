from . import test_settings
from . import test_mail_gateway
from . import test_ticket
from . import test_sla_policy
from . import test_portal
from . import test_clock
from . import test_sla_clock
from . import test_tour
