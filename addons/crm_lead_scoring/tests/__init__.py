from . import test_engine
from . import test_settings
from . import test_scoring
from . import test_training
from . import test_security
from . import test_tour
from . import test_sudo_safety
from . import test_jobs
