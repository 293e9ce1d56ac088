"""The `dcc` command: Django's management commands for this project under one short name.

`dcc serve`, `dcc migrate`, `dcc demo`, `dcc ledger verify`, ... are all management commands;
`dcc` alone prints the list of them.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dcc.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv if argv is None else argv)


if __name__ == "__main__":
    main()
