"""Numbers as every page shows them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import formats, numberformat

CENT = Decimal("0.01")


def format_money(value: Decimal | float | int | str | None) -> str:
    """Yuan as every page shows them: "¥185,000", "¥23.81" (cents only when there are any),
    in the reader's decimal mark; thousands grouped in threes, with a comma where the locale
    sets none (Chinese prices are written ¥185,000)."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return str(value)
    separator = formats.get_format("THOUSAND_SEPARATOR")
    text = numberformat.format(
        amount,
        decimal_sep=formats.get_format("DECIMAL_SEPARATOR"),
        decimal_pos=0 if amount == amount.to_integral_value() else 2,
        grouping=formats.get_format("NUMBER_GROUPING") if separator else 3,
        thousand_sep=separator or ",",
        force_grouping=True,
    )
    return f"¥{text}"
