"""`dcc check`: Django's system check, except that `--deploy` fails on any warning.

The production check exists to stop a deployment with a weak key, no HTTPS or debug on, and
Django reports those as warnings, which its own check lets pass with exit status 0. An explicit
`--fail-level` still wins."""

from django.core.management.commands import check


class Command(check.Command):
    help = "Check the project; with --deploy, any warning fails (exit status 1)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(fail_level=None)

    def handle(self, *app_labels, **options):
        if options["fail_level"] is None:
            options["fail_level"] = "WARNING" if options["deploy"] else "ERROR"
        return super().handle(*app_labels, **options)
