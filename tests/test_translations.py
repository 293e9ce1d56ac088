"""zh_Hans and en stay complete: every marked string of the code has a translation, the
compiled catalogs match their sources, and no translation loses a placeholder."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from pathlib import Path

import polib
import pytest

from tools.i18n import LANGUAGES, ROOT, catalog, extract

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


@pytest.fixture(scope="module")
def fresh_catalogs(tmp_path_factory) -> Path:
    """The committed catalogs, brought up to date with the code in a scratch copy."""
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("gettext is not installed: the translation check cannot run")
        pytest.skip("gettext is not installed")
    locale = tmp_path_factory.mktemp("i18n") / "locale"
    shutil.copytree(ROOT / "locale", locale)
    # makemessages writes scratch files beside the templates it reads: parallel test workers
    # take turns (the lock file lives in the temp folder all workers share).
    with (tmp_path_factory.getbasetemp().parent / "makemessages.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        extract(locale)
    return locale


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_in_the_code_is_translated(fresh_catalogs: Path, language: str):
    po = polib.pofile(str(catalog(fresh_catalogs, language)))
    missing = [entry.msgid for entry in po if not entry.translated() or entry.fuzzy]
    assert not missing, f"{len(missing)} untranslated in {language} (make messages): {missing[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_matches_its_source(language: str):
    po_path = catalog(ROOT / "locale", language)
    source = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0) for e in polib.pofile(str(po_path))
    }
    compiled = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0)
        for e in polib.mofile(str(po_path.with_suffix(".mo")))
        if e.msgid
    }
    assert compiled == source, "run `make messages` to compile the catalogs"


def test_chinese_keeps_every_placeholder():
    po = polib.pofile(str(catalog(ROOT / "locale", "zh_Hans")))
    broken = [
        entry.msgid
        for entry in po.translated_entries()
        for text in [entry.msgstr, *entry.msgstr_plural.values()]
        if text
        and sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(entry.msgid))
        and not entry.msgid_plural
    ]
    assert not broken, broken[:10]
