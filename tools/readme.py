#!/usr/bin/env python3
"""Write each addon's ``README.rst`` from its hand-written ``readme/*.md`` fragments.

Usage: ``python3 tools/readme.py [--check]``. With ``--check`` nothing is
written and the exit code says whether a README.rst is out of date
(``tests/test_readme.py`` runs that check).
"""

import ast
import sys
from pathlib import Path

ADDONS = Path(__file__).resolve().parent.parent / "addons"
SECTIONS = (
    ("DESCRIPTION.md", None),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("ROADMAP.md", "Known issues / Roadmap"),
    ("CONTRIBUTORS.md", "Contributors"),
)


def render(addon_dir):
    manifest = ast.literal_eval((addon_dir / "__manifest__.py").read_text())
    title = manifest["name"]
    lines = ["=" * len(title), title, "=" * len(title), "", manifest.get("summary", ""), ""]
    lines += [f"*Version {manifest['version']}, licence {manifest['license']}.*", ""]
    for filename, heading in SECTIONS:
        fragment = addon_dir / "readme" / filename
        if not fragment.exists():
            continue
        if heading:
            lines += [heading, "=" * len(heading), ""]
        for line in fragment.read_text().strip().splitlines():
            # the fragments are simple Markdown: paragraphs, lists and emphasis read the same in RST
            lines.append(line)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv):
    check = "--check" in argv
    stale = []
    for manifest in sorted(ADDONS.glob("*/__manifest__.py")):
        addon_dir = manifest.parent
        text = render(addon_dir)
        target = addon_dir / "README.rst"
        if not target.exists() or target.read_text() != text:
            stale.append(str(target.relative_to(ADDONS.parent)))
            if not check:
                target.write_text(text)
    if check and stale:
        print("out of date (run python3 tools/readme.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
