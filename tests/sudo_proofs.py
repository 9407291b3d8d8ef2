"""Every function of the suite that calls ``sudo()``, and the test that shows it safe.

Keys are ``addon/path.py::Class.method`` (as ``tests/test_abuse.py`` finds them); values
name a test, ``path/from/the/repository/root.py::Class::test_name``, that runs the code
as the user the ``sudo()`` acts for and shows that this user gets no more than their due.
``tests/test_abuse.py::test_every_sudo_has_a_proof`` fails when a ``sudo()`` is missing
here, when an entry no longer calls ``sudo()``, or when a named test does not exist.
"""

SUDO_PROOFS = {}
