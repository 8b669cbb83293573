"""Compile the .po translation catalogues to .mo with polib, so no system gettext is needed."""

from pathlib import Path

import polib

PACKAGE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = PACKAGE_DIR / "locale"


def catalogues() -> list[Path]:
    """The project catalogue and each app's own (an app keeps its strings in <app>/locale)."""
    return sorted(PACKAGE_DIR.glob("locale/*/LC_MESSAGES/*.po")) + sorted(
        PACKAGE_DIR.glob("*/locale/*/LC_MESSAGES/*.po")
    )


def main() -> None:
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        print(f"compiled {mo_path.relative_to(LOCALE_DIR.parent.parent)}")


if __name__ == "__main__":
    main()
