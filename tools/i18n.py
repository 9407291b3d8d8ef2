#!/usr/bin/env python3
"""Regenerate each suite addon's ``i18n/<addon>.pot`` and merge it into ``fr.po``.

Usage: ``python3 tools/i18n.py DATABASE [ADDON ...]`` where DATABASE has the
suite installed (``make demo-db`` makes one). New strings land in ``fr.po``
untranslated and are listed; ``tests/test_translations.py`` fails until each
has its French text.
"""

import sys
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
import suite  # noqa: E402


def merge(pot_path, po_path):
    pot = polib.pofile(str(pot_path))
    old = polib.pofile(str(po_path)) if po_path.exists() else polib.POFile()
    known = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in old if not entry.obsolete}
    po = polib.POFile(wrapwidth=78)
    po.metadata = dict(pot.metadata)
    po.metadata.update({"Language": "fr", "Plural-Forms": "nplurals=2; plural=(n > 1);"})
    po.header = pot.header
    missing = []
    for entry in pot:
        translated = polib.POEntry(
            msgid=entry.msgid,
            msgctxt=entry.msgctxt,
            msgstr=known.get((entry.msgctxt, entry.msgid), ""),
            occurrences=entry.occurrences,
            comment=entry.comment,
            tcomment=entry.tcomment,
            flags=entry.flags,
        )
        if not translated.msgstr:
            missing.append(entry.msgid)
        po.append(translated)
    po.save(str(po_path))
    return missing


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    database, addons = argv[0], argv[1:] or list(suite.SUITE_ADDONS)
    conf = suite.write_run_conf()
    cmd = [*suite.odoo_cmd(), "i18n", "export", "-l", "pot", "-c", str(conf), "-d", database, *addons]
    if suite.run(cmd):
        return 1
    status = 0
    for addon in addons:
        folder = suite.ROOT / "addons" / addon / "i18n"
        missing = merge(folder / f"{addon}.pot", folder / "fr.po")
        for msgid in missing:
            print(f"{addon}/i18n/fr.po: untranslated: {msgid!r}")
        status = status or bool(missing)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
