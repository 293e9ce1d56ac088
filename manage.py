#!/usr/bin/env python
"""Django's command-line utility; `dcc` is the same thing installed as a command."""

from dcc_site.cli import main

if __name__ == "__main__":
    main()
