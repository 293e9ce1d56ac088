"""Web forms for the dealer's phone settings. A form parses the input; the functions in
calls.setup validate and decide, and their InvalidInput lands on the field it names.

Secret fields never render a value (not even the one just typed into a form that failed):
they say whether a value is stored, and an empty field keeps it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Dealer, Staff
from calls.models import LineKind, PhoneAccount
from calls.providers import PROVIDERS
from calls.setup import (
    CALLBACK_MINUTES_RANGE,
    SCRIPT_PLACEHOLDERS,
    credential_fields,
    line_channels,
    seat_candidates,
)
from intake.uploads import max_upload_bytes, too_large_message
from leads.forms import StyledForm
from leads.models import Channel
from leads.setup.forms import CHECKBOX, PersonChoiceField
from leads.stages import Grade, Stage


class AccountForm(StyledForm):
    """An account's API address, the provider's settings as named fields, whether it is
    active. The provider is fixed (one account per provider)."""

    def __init__(self, *args, provider: str, account: PhoneAccount | None = None, **kwargs):
        self.provider = provider
        self.fields_of_provider = credential_fields(provider)
        stored = account.credentials if account is not None else {}
        initial = {"is_active": account.is_active if account is not None else True}
        if account is not None:
            initial["api_url"] = account.api_url
        for field in self.fields_of_provider:
            if not field.secret:
                initial[field.key] = stored.get(field.key, "")
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        order = []
        default_url = PROVIDERS[provider].default_base_url
        if default_url:  # the generic format has no API to call
            self.fields["api_url"] = forms.CharField(
                label=_("API address"),
                required=False,
                max_length=200,
                help_text=_("Empty: the provider's (%(url)s).") % {"url": default_url},
            )
            self.fields["api_url"].widget.attrs.update(
                autocomplete="off", spellcheck="false", inputmode="url"
            )
            order.append("api_url")
        for field in self.fields_of_provider:
            if field.secret:
                is_set = bool(stored.get(field.key))
                status = gettext("Set: leave empty to keep it.") if is_set else gettext("Not set.")
                help_text = f"{field.help_text} {status}".strip() if field.help_text else status
                self.fields[field.key] = forms.CharField(
                    label=field.label,
                    required=False,
                    max_length=200,
                    help_text=help_text,
                    widget=forms.PasswordInput(
                        render_value=False,
                        attrs={"class": "form-control", "autocomplete": "new-password"},
                    ),
                )
                order.append(field.key)
                if is_set:
                    clear = f"clear_{field.key}"
                    self.fields[clear] = forms.BooleanField(
                        label=gettext("Remove the stored %(setting)s") % {"setting": field.label},
                        required=False,
                        widget=forms.CheckboxInput(attrs=CHECKBOX),
                    )
                    order.append(clear)
            else:
                self.fields[field.key] = forms.CharField(
                    label=field.label,
                    required=False,
                    max_length=500 if field.key == "recording_hosts" else 200,
                    help_text=field.help_text,
                )
                self.fields[field.key].widget.attrs.update(autocomplete="off", spellcheck="false")
                order.append(field.key)
        self.fields["is_active"] = forms.BooleanField(
            label=_("Active: pushes are accepted and calls can be dialled"),
            required=False,
            widget=forms.CheckboxInput(attrs=CHECKBOX),
        )
        order.append("is_active")
        self.order_fields(order)
        for field in self.fields.values():  # made after StyledForm styled the declared ones
            if not isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-control")

    def secret_status(self) -> list[tuple[str, bool]]:
        """(label, set?) of each secret, for the account page."""
        return [
            (str(field.label), f"clear_{field.key}" in self.fields)
            for field in self.fields_of_provider
            if field.secret
        ]

    def action_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "credentials": {
                field.key: data.get(field.key, "") for field in self.fields_of_provider
            },
            "api_url": data.get("api_url", ""),
            "is_active": data["is_active"],
        }

    def clear(self) -> list[str]:
        return [
            field.key
            for field in self.fields_of_provider
            if field.secret and self.cleaned_data.get(f"clear_{field.key}")
        ]


class LineForm(StyledForm):
    number = forms.CharField(
        label=_("Number"),
        max_length=40,
        help_text=_("Digits, as callers dial it: 4008001234, 02161234567, 13812345678."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=LineKind.choices)
    name = forms.CharField(label=_("Name"), required=False, max_length=100)
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.none(),
        help_text=_("The channel the calls on this number count for."),
    )
    callback_minutes = forms.IntegerField(
        label=_("Call back within (business minutes)"),
        min_value=CALLBACK_MINUTES_RANGE[0],
        max_value=CALLBACK_MINUTES_RANGE[1],
        initial=30,
        help_text=_("When a call on this number is missed, the callback is due within this."),
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs=CHECKBOX),
    )

    def __init__(self, *args, dealer: Dealer, line=None, **kwargs):
        if line is not None:
            kwargs.setdefault(
                "initial",
                {
                    "number": line.number,
                    "kind": line.kind,
                    "name": line.name,
                    "channel": line.channel_id,
                    "callback_minutes": line.callback_minutes,
                    "is_active": line.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = line_channels(dealer, line)
        self.fields["channel"].label_from_instance = lambda channel: gettext(channel.name)
        self.fields["number"].widget.attrs.update(inputmode="tel", autocomplete="off")
        self.fields["callback_minutes"].widget.attrs.update(inputmode="numeric")

    def action_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class SeatForm(StyledForm):
    seat = forms.CharField(
        label=_("Seat id"),
        max_length=64,
        help_text=_(
            "As the provider names it: TCCC the seat's e-mail, Aliyun agent@instance, "
            "Clink the cno."
        ),
    )
    staff = PersonChoiceField(label=_("Person"), queryset=Staff.objects.none())

    def __init__(self, *args, dealer: Dealer, **kwargs):
        super().__init__(*args, prefix="seat", **kwargs)
        self.fields["staff"].queryset = seat_candidates(dealer)
        self.fields["seat"].widget.attrs.update(autocomplete="off", spellcheck="false")


class BlockForm(StyledForm):
    number = forms.CharField(label=_("Number"), max_length=40)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="block", **kwargs)
        self.fields["number"].widget.attrs.update(inputmode="tel", autocomplete="off")


class ScriptForm(StyledForm):
    title = forms.CharField(label=_("Title"), max_length=100)
    body = forms.CharField(
        label=_("Script"),
        max_length=5000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    stage = forms.ChoiceField(
        label=_("Only for leads in stage"),
        required=False,
        choices=[("", _("Any stage")), *Stage.choices],
    )
    grade = forms.ChoiceField(
        label=_("Only for leads of grade"),
        required=False,
        choices=[("", _("Any grade")), *Grade.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].help_text = gettext(
            "Filled in on the call panel: %(placeholders)s."
        ) % {"placeholders": ", ".join(f"{{{name}}}" for name in SCRIPT_PLACEHOLDERS)}


class RetentionForm(StyledForm):
    recording_retention_days = forms.IntegerField(
        label=_("Keep recordings for (days)"),
        help_text=_("At least 30 days. Our copies of older recordings are then deleted."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recording_retention_days"].widget.attrs.update(inputmode="numeric")


class HistoryImportForm(StyledForm):
    """The file of past calls to import, into which account, and whether only to try it."""

    account = forms.ModelChoiceField(label=_("Phone account"), queryset=PhoneAccount.objects.none())
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GBK) or Excel .xlsx, with a header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: check every row, store nothing"),
        required=False,
        widget=forms.CheckboxInput(attrs=CHECKBOX),
    )

    def __init__(self, *args, dealer: Dealer, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = PhoneAccount.objects.filter(dealer=dealer).order_by("-is_active", "provider")
        field = self.fields["account"]
        field.queryset = accounts
        field.label_from_instance = lambda account: account.get_provider_display()
        if len(accounts) == 1:
            field.empty_label = None

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > max_upload_bytes():
            raise forms.ValidationError(too_large_message())
        return file
