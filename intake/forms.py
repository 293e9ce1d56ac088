"""Forms of the import wizard: they parse and validate; intake.uploads and intake.imports
decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Dealer
from intake import uploads
from intake.mapping import CANONICAL_COLUMNS, IGNORE, field_label, preset_choices
from intake.models import SavedMapping
from leads.forms import StyledForm
from leads.models import Channel


class ChannelChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Channel) -> str:
        return _(obj.name)  # the default channels' names are in the catalog


class UploadForm(StyledForm):
    """Step one: the file and how to read it."""

    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8 or GBK) or Excel .xlsx, with a header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    channel = ChannelChoice(
        label=gettext_lazy("Channel"),
        queryset=Channel.objects.none(),
        required=False,
        empty_label=gettext_lazy("From the file's channel column"),
        help_text=gettext_lazy("For rows that don't name their channel."),
    )
    preset = forms.ChoiceField(label=gettext_lazy("Platform export"), required=False)
    saved_mapping = forms.ChoiceField(label=gettext_lazy("Saved column mapping"), required=False)

    def __init__(self, *args, dealer: Dealer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = Channel.objects.filter(
            dealer=dealer, is_active=True
        ).order_by("group", "code")
        self.fields["preset"].choices = [("", _("None: detect the columns")), *preset_choices()]
        names = SavedMapping.objects.filter(dealer=dealer).order_by("name")
        self.fields["saved_mapping"].choices = [
            ("", _("None")),
            *((name, name) for name in names.values_list("name", flat=True)),
        ]

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > uploads.max_upload_bytes():
            raise forms.ValidationError(uploads.too_large_message())
        return file


class MappingForm(StyledForm):
    """Step two: which of the file's columns fills each field, and a name to keep the mapping
    under. Columns are chosen by position; the mapping is kept by header text."""

    name = forms.CharField(
        label=gettext_lazy("Save this mapping as"),
        required=False,
        max_length=100,
        help_text=gettext_lazy(
            "Needed when you change a column: the import uses the saved mapping, and the next "
            "file of the same shape can use it too."
        ),
    )

    def __init__(self, *args, headers: list[str], detected: dict[str, int], **kwargs):
        kwargs.setdefault("initial", {}).update(
            {f"column_{name}": str(index) for name, index in detected.items()}
        )
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.detected = detected
        choices = [("", _("— not imported —"))] + [
            (str(index), header or _("column %(number)d") % {"number": index + 1})
            for index, header in enumerate(headers)
        ]
        for name in CANONICAL_COLUMNS:
            self.fields[f"column_{name}"] = forms.TypedChoiceField(
                label=field_label(name),
                choices=choices,
                required=name == "mobile",
                coerce=int,
                empty_value=None,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
        self.order_fields([f"column_{name}" for name in CANONICAL_COLUMNS] + ["name"])

    def column_fields(self) -> list[forms.BoundField]:
        return [self[f"column_{name}"] for name in CANONICAL_COLUMNS]

    def chosen(self) -> dict[str, int]:
        """Canonical column → index of the file's column, as chosen (valid form only)."""
        return {
            name: index
            for name in CANONICAL_COLUMNS
            if (index := self.cleaned_data.get(f"column_{name}")) is not None
        }

    def changed_mapping(self) -> bool:
        return self.chosen() != self.detected

    def as_saved(self) -> dict[str, str]:
        """The chosen mapping as a dealer keeps it: canonical → header, "" for a field left
        out on purpose (so the next file doesn't find it by name again)."""
        chosen = self.chosen()
        return {
            name: self.headers[chosen[name]] if name in chosen else IGNORE
            for name in CANONICAL_COLUMNS
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        chosen = self.chosen()
        used: dict[int, str] = {}
        for name, index in chosen.items():
            if index in used:
                raise forms.ValidationError(
                    _("The column “%(header)s” is chosen for both %(first)s and %(second)s.")
                    % {
                        "header": self.headers[index],
                        "first": field_label(used[index]),
                        "second": field_label(name),
                    }
                )
            used[index] = name
        if any(not self.headers[index] for index in chosen.values()):
            raise forms.ValidationError(
                _("A column without a name in the header row can't be kept in a mapping.")
            )
        if self.changed_mapping() and not cleaned.get("name", "").strip():
            self.add_error(
                "name",
                _("You changed the mapping: give it a name, so the import can use it."),
            )
        return cleaned
