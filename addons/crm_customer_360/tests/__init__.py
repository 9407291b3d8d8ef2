from . import test_settings
from . import test_health_engine
from . import test_summary
from . import test_health
from . import test_scoring_facts
from . import test_tour
from . import test_reports
from . import test_demand
