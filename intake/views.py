"""The import wizard, for supervisors and managers: upload a file, check how its columns map
and its first rows, dry-run or import it in the background, watch it, read the report.
Reads come from intake.selectors; writes from intake.uploads and intake.imports."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from dcc.errors import DomainError, NotPermitted
from intake import imports, selectors, uploads
from intake.forms import MappingForm, UploadForm
from intake.models import ImportJob, ImportStatus, RowOutcome
from leads.permissions import may_import
from leads.views.common import is_htmx, workbench


def importers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in at a dealer; anyone but a supervisor or manager is told plainly why not."""

    @workbench()
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not may_import(request.user, request.dealer.pk):
            return render(request, "intake/refused.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    """One of this dealer's imports; another dealer's is not found."""
    return get_object_or_404(
        ImportJob.objects.select_related("created_by", "channel", "dealer"),
        pk=job_id,
        dealer=request.dealer,
    )


# ---------------------------------------------------------------- step 1: list and upload


@csrf_exempt
def import_list(request: HttpRequest) -> HttpResponse:
    """Past imports and the upload form. The upload is read through a size limit before
    anything else looks at it (so CSRF is checked inside, once the limit is in place)."""
    limit = uploads.SizeLimit(request, limit=uploads.max_upload_bytes())
    request.upload_handlers.insert(0, limit)
    return _import_list(request, limit=limit)


@csrf_protect
@importers
def _import_list(request: HttpRequest, *, limit: uploads.SizeLimit) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, dealer=request.dealer)
    if request.method == "POST":
        if limit.exceeded:
            form.is_valid()  # the file was cut off: say why rather than that it is missing
            form.errors["file"] = form.error_class([uploads.too_large_message()])
        elif form.is_valid():
            try:
                upload = uploads.store_upload(
                    dealer=request.dealer,
                    by=request.user,
                    file=form.cleaned_data["file"],
                    channel=form.cleaned_data["channel"],
                    preset=form.cleaned_data["preset"],
                    saved_mapping=form.cleaned_data["saved_mapping"],
                )
            except NotPermitted as error:
                raise PermissionDenied(error.message) from error
            except DomainError as error:
                form.add_error("file", error.message)
            else:
                return redirect("import_preview", token=upload.token)
    return render(
        request,
        "intake/imports.html",
        {"form": form, "jobs": selectors.past_imports(request.dealer)},
        status=422 if form.errors else 200,
    )


# ---------------------------------------------------------------- step 2: preview


@importers
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    """How the file's columns map and how its first rows read; Dry run or Import starts it."""
    upload = uploads.find_upload(dealer=request.dealer, token=token)
    if upload is None:
        raise Http404
    saved = selectors.saved_mapping(request.dealer, upload.saved_mapping)
    preview = selectors.preview_file(upload.path, preset=upload.preset, saved=saved)
    form = MappingForm(request.POST or None, headers=preview.headers, detected=preview.detected)
    no_channel = preview.mapping is not None and uploads.lacks_channel(upload, preview.detected)
    if no_channel:
        for row in preview.rows:
            row.error = row.error or _(
                "No channel: name one in the channel column or choose the import's channel."
            )
    if request.method == "POST" and preview.headers and form.is_valid():
        try:
            job = _start(request, upload, form)
        except NotPermitted as error:
            raise PermissionDenied(error.message) from error
        except DomainError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
        else:
            return redirect("import_job", job_id=job.pk)
    return render(
        request,
        "intake/preview.html",
        {
            "upload": upload,
            "preview": preview,
            "form": form,
            "no_channel": no_channel,
            "no_channel_message": uploads.no_channel_message(),
        },
        status=422 if form.errors else 200,
    )


def _start(request: HttpRequest, upload: uploads.Upload, form: MappingForm) -> ImportJob:
    """Keep the mapping under its name when the person gave one, then start the job."""
    saved_mapping = None
    name = form.cleaned_data["name"].strip()
    if name:
        imports.save_mapping(
            dealer=request.dealer, by=request.user, name=name, mapping=form.as_saved()
        )
        saved_mapping = name
    return uploads.start_upload(
        upload=upload,
        dealer=request.dealer,
        by=request.user,
        dry_run=request.POST.get("run") != "import",
        saved_mapping=saved_mapping,
        columns=form.chosen().keys(),
    )


# ---------------------------------------------------------------- step 3: the job


@importers
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """Progress while it runs; then the counts, the row-by-row report and what to do next."""
    job = _job(request, job_id)
    outcome = request.GET.get("outcome", "")
    if outcome not in RowOutcome.values:
        outcome = ""
    finished = job.status in (ImportStatus.DONE, ImportStatus.FAILED)
    context = {
        "job": job,
        "rate": selectors.rows_per_second(job),
        "finished": finished,
        "outcome": outcome,
        "outcomes": RowOutcome.choices,
        "report": selectors.report_page(job, page=request.GET.get("page"), outcome=outcome)
        if finished
        else None,
        "file_kept": bool(job.upload) and imports.job_path(job).is_file(),
        "writes_anything": uploads.writes_anything(job),
    }
    return render(request, "intake/job.html", context)


@importers
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress card, polled while the job is queued or running. Once it has finished,
    the page reloads to show the report."""
    job = _job(request, job_id)
    context = {"job": job, "rate": selectors.rows_per_second(job)}
    response = render(request, "intake/_progress.html", context)
    if is_htmx(request) and job.status in (ImportStatus.DONE, ImportStatus.FAILED):
        response["HX-Refresh"] = "true"
    return response


@importers
def import_rejected(request: HttpRequest, job_id: int) -> HttpResponse:
    """The rejected rows as a CSV, with the reason for each, to fix and import again."""
    job = _job(request, job_id)
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": content_disposition_header(
                True, selectors.rejected_file_name(job)
            )
        },
    )
    imports.rejected_rows_csv(job, response)
    return response


@importers
@require_POST
def import_for_real(request: HttpRequest, job_id: int) -> HttpResponse:
    """After a dry run: the same file, the same choices, for real."""
    job = _job(request, job_id)
    try:
        real = uploads.import_for_real(job=job, by=request.user)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("import_job", job_id=job.pk)
    return redirect("import_job", job_id=real.pk)


@importers
@require_POST
def import_again(request: HttpRequest, job_id: int) -> HttpResponse:
    """A failed import runs again, finishing the rows it had not done."""
    job = _job(request, job_id)
    try:
        uploads.run_again(job=job, by=request.user)
    except NotPermitted as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("import_job", job_id=job.pk)
