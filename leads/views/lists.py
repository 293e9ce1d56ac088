"""The lead list: the dealer's leads the person may see, filtered by owner, channel, stage,
grade, creation dates and SLA, with their total, and the same selection as a spreadsheet.
Phone numbers follow leads.permissions.may_see_phone on the page and in the file alike."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable

import xlsxwriter
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Staff
from leads.filtersets import LeadFilterForm
from leads.models import Lead
from leads.permissions import may_list_leads, shown_phone, visible_leads
from leads.sla import breached
from leads.stages import Stage
from leads.views.common import workbench

PAGE_SIZE = 50
# A worksheet holds 1,048,576 rows: an export stops short of that and says so in its last row.
MAX_EXPORT_ROWS = 1_000_000


def _phone(staff: Staff, lead: Lead) -> str:
    return shown_phone(staff, lead)


def _selected(request: HttpRequest) -> tuple[LeadFilterForm, object]:
    form = LeadFilterForm(request.GET or None, dealer=request.dealer)
    leads = form.apply(visible_leads(request.user, dealer_id=request.dealer.pk))
    return form, leads.order_by("-created_at", "-pk")


@workbench(may_list_leads)
def lead_list(request: HttpRequest) -> HttpResponse:
    form, leads = _selected(request)
    # Page through ids only, then load the 50 rows: deep pages stay fast.
    page = Paginator(leads.values_list("pk", flat=True), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ids = list(page.object_list)
    on_page = Lead.objects.select_related("customer", "channel", "owner").in_bulk(ids)
    page.object_list = [on_page[pk] for pk in ids]
    rows = [(lead, _phone(request.user, lead)) for lead in page]
    filters = request.GET.copy()
    filters.pop("page", None)
    return render(
        request,
        "leads/lead_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filters": filters.urlencode(),
            "filtered": form.is_filtered(),
        },
        status=422 if form.errors else 200,
    )


@workbench(may_list_leads)
def lead_export(request: HttpRequest) -> HttpResponse:
    """The filtered leads as an .xlsx, written row by row to a temporary file (constant
    memory, whatever the count) and streamed from there."""
    form, leads = _selected(request)
    if form.errors:
        return lead_list(request)
    rows = (
        leads.select_related("customer", "channel", "owner")
        .annotate(late=ExpressionWrapper(breached(), output_field=BooleanField()))[
            : MAX_EXPORT_ROWS + 1
        ]
        .iterator(chunk_size=2000)
    )
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once streamed)
    _write_xlsx(out, request.user, rows)
    out.seek(0)
    day = timezone.localdate().isoformat()
    return FileResponse(
        out,
        as_attachment=True,
        filename=f"leads-{request.dealer.code}-{day}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _write_xlsx(out, staff: Staff, leads: Iterable[Lead]) -> None:
    book = xlsxwriter.Workbook(
        out,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    header = book.add_format({"bold": True, "bg_color": "#0B4F8A", "font_color": "#FFFFFF"})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet = book.add_worksheet(_("Leads"))
    headers = [
        _("Lead"),
        _("Created"),
        _("Customer"),
        _("Mobile"),
        _("Channel"),
        _("Model of interest"),
        _("Stage"),
        _("Grade"),
        _("Owner"),
        _("First-response deadline"),
        _("First response"),
        _("SLA breached"),
    ]
    widths = [9, 17, 14, 14, 14, 16, 12, 8, 12, 17, 17, 10]
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    sheet.write_row(0, 0, headers, header)
    sheet.freeze_panes(1, 0)
    stages = dict(Stage.choices)
    number = 0
    for number, lead in enumerate(leads, start=1):
        if number > MAX_EXPORT_ROWS:
            sheet.write_string(
                number,
                0,
                _("Only the first %(count)s leads: narrow the filter for the rest.")
                % {"count": f"{MAX_EXPORT_ROWS:,}"},
            )
            break
        sheet.write_number(number, 0, lead.pk)
        sheet.write_datetime(number, 1, _local(lead.created_at), when)
        sheet.write_string(number, 2, lead.customer.name)
        sheet.write_string(number, 3, _phone(staff, lead))
        sheet.write_string(number, 4, _(lead.channel.name))
        sheet.write_string(number, 5, lead.car_model)
        sheet.write_string(number, 6, str(stages.get(lead.stage, lead.stage)))
        sheet.write_string(number, 7, lead.grade)
        sheet.write_string(number, 8, str(lead.owner))
        sheet.write_datetime(number, 9, _local(lead.sla_deadline), when)
        if lead.first_response_at:
            sheet.write_datetime(number, 10, _local(lead.first_response_at), when)
        sheet.write_string(number, 11, _("yes") if lead.late else _("no"))
    sheet.autofilter(0, 0, max(number, 1), len(headers) - 1)
    book.close()
