"""Background work of the import wizard, run by the task worker (`dcc serve`'s own thread, or
`dcc db_worker` processes when DCC_TASK_WORKER=external)."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from dcc.errors import DomainError
from intake import imports
from intake.models import ImportJob, ImportStatus


@task()
def run_import_task(job_id: int, language: str = "") -> str:
    """Import a queued job's stored file to the end. A job that fails keeps the reason on the
    job (its page shows it); this returns the job's status."""
    job = (
        ImportJob.objects.select_related("dealer", "created_by", "channel")
        .filter(pk=job_id)
        .first()
    )
    if job is None or job.status == ImportStatus.DONE:
        return job.status if job else "missing"
    with translation.override(language or settings.LANGUAGE_CODE):
        if not job.upload:  # `dcc import` reads the file where it lies: none is kept here
            imports.fail(
                job,
                _(
                    "This file was imported on the command line and is not kept here: import "
                    "it again with dcc import (rows already imported are skipped)."
                ),
            )
            return job.status
        try:
            imports.run_import(job, path=imports.job_path(job))
        except DomainError as error:
            # Refused before it began (the file is gone, the importer lost the role): the
            # runner had no chance to record it.
            if job.status != ImportStatus.FAILED:
                imports.fail(job, error.message)
    return job.status
