"""Refresh the translation catalogs: extract every marked string, keep English identical to
its source, compile both catalogs. `make messages`; then translate what is new in
locale/zh_Hans/LC_MESSAGES/django.po and run it again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("zh_Hans", "en")
IGNORE = (".venv", "var", "tests", "bench", "tools", "static/vendor", "build")


def extract(locale_dir: Path) -> None:
    """Run makemessages into `locale_dir`: the tree's own catalogs, or a copy of them in a
    folder of its own (which then gets links to the sources beside it)."""
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "dcc.settings", "DCC_LOCALE_DIR": str(locale_dir)}
    command = [sys.executable, "-m", "django", "makemessages", "--no-obsolete", "--no-location"]
    command += [arg for lang in LANGUAGES for arg in ("-l", lang)]
    command += [arg for pattern in IGNORE for arg in ("--ignore", f"{pattern}/*")]
    workdir = ROOT
    if locale_dir.resolve() != (ROOT / "locale").resolve():
        # makemessages writes sources found under the working folder into its `locale`
        # folder, whatever LOCALE_PATHS says: so a copy is filled from a scratch folder that
        # links to the sources and holds the copy as its `locale`.
        workdir = locale_dir.parent
        assert locale_dir.name == "locale", "a copy of the catalogs must be called locale"
        for entry in ROOT.iterdir():
            if entry.name not in ("locale", "var", *IGNORE) and not entry.name.startswith("."):
                (workdir / entry.name).symlink_to(entry)
        command.append("--symlinks")
    subprocess.run(command, cwd=workdir, env=env, check=True, capture_output=True)


def catalog(locale_dir: Path, language: str) -> Path:
    return locale_dir / language / "LC_MESSAGES" / "django.po"


def fill_english(locale_dir: Path) -> None:
    """English is the source language: each message translates to itself."""
    po = polib.pofile(str(catalog(locale_dir, "en")), wrapwidth=79)  # as gettext wraps
    for entry in po:
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        else:
            entry.msgstr = entry.msgid
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    po.save()


def compile_catalogs(locale_dir: Path) -> None:
    for language in LANGUAGES:
        po_path = catalog(locale_dir, language)
        polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))


def main() -> None:
    locale_dir = ROOT / "locale"
    extract(locale_dir)
    fill_english(locale_dir)
    compile_catalogs(locale_dir)
    po = polib.pofile(str(catalog(locale_dir, "zh_Hans")))
    missing = [entry.msgid for entry in po if not entry.translated() or entry.fuzzy]
    print(f"zh_Hans: {po.percent_translated()}% translated, {len(missing)} to do")
    for msgid in missing[:50]:
        print("  ", msgid)


if __name__ == "__main__":
    main()
