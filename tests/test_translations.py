"""Every suite addon ships its template and a complete French translation.

An addon with nothing to translate (no data, view or message: ``suite_batch_job``) has no
``i18n/`` folder, and the test checks that it indeed has nothing to translate.
"""

import ast
import re
from pathlib import Path

import polib
import pytest

ADDONS = Path(__file__).resolve().parent.parent / "addons"
SUITE = sorted(p.parent.name for p in ADDONS.glob("*/__manifest__.py"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


@pytest.mark.parametrize("addon", SUITE)
def test_french_translation_is_complete(addon):
    folder = ADDONS / addon / "i18n"
    if not folder.exists():
        manifest = ast.literal_eval((ADDONS / addon / "__manifest__.py").read_text())
        assert not manifest.get("data") and not manifest.get("demo"), f"{addon} has data or views but no i18n/"
        sources = [p for p in (ADDONS / addon).rglob("*.py") if "tests" not in p.parts]
        said = [str(p) for p in sources if re.search(r"(\b_|env\._|_lt)\(", p.read_text())]
        assert not said, f"{addon} has messages to translate but no i18n/: {said}"
        return
    pot = polib.pofile(str(folder / f"{addon}.pot"))
    french = {(e.msgctxt, e.msgid): e for e in polib.pofile(str(folder / "fr.po")) if not e.obsolete}
    assert len(pot) > 0, f"{addon}.pot is empty: regenerate it with tools/i18n.py"
    missing = [e.msgid for e in pot if not french.get((e.msgctxt, e.msgid)) or not french[(e.msgctxt, e.msgid)].msgstr]
    assert not missing, f"{addon}/i18n/fr.po lacks: {missing}"
    for entry in pot:
        translated = french[(entry.msgctxt, entry.msgid)].msgstr
        assert sorted(PLACEHOLDER.findall(entry.msgid)) == sorted(PLACEHOLDER.findall(translated)), (
            f"{addon}/i18n/fr.po changes the placeholders of {entry.msgid!r}"
        )
