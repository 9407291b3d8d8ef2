from . import checks, matching, runner
