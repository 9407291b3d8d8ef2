from . import test_batch
