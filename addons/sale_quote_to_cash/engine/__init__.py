from . import checks, runner
