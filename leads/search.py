"""Search keys for customers."""

from pypinyin import Style, lazy_pinyin


def name_initials(name: str) -> str:
    """Pinyin initials of a Chinese name (王小明 → wxm); other letters kept, lower-cased."""
    if not name:
        return ""
    letters = lazy_pinyin(
        name, style=Style.FIRST_LETTER, errors=lambda chunk: [c for c in chunk if c.isalnum()]
    )
    return "".join(letters).lower()[:100]
