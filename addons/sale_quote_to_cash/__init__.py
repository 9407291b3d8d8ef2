from . import engine
from . import models
from . import wizards
from .hooks import uninstall_hook
