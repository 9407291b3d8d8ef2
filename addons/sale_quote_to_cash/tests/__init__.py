from . import test_settings
from . import test_engine
from . import test_flow
from . import test_checks
from . import test_payments
from . import test_failures
from . import test_batches
from . import test_concurrency
