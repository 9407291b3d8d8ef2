#!/usr/bin/env python3
"""Odoo's command line for ``make soak``'s server (``bench/bench_soak.py`` starts it).

The same as ``python3 -m odoo``, started from a file: in prefork mode Odoo's master starts its
gevent process (the bus) as ``sys.executable sys.argv[0] gevent ...``, and under ``-m odoo``
``sys.argv[0]`` is ``odoo/__main__.py``, which cannot be run as a file: the gevent process dies
at once and the master starts it again, a few times a second, for as long as it runs.
"""

import sys

from odoo.cli.command import main

if __name__ == "__main__":
    sys.exit(main())
