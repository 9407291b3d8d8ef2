from . import test_settings
from . import test_mail_gateway
from . import test_ticket
