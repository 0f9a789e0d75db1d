"""Input checks for the crm pages. They validate shape at the edge; the services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings

from accord.campaigns.services import LOGGABLE_KINDS
from accord.core.models import User
from accord.core.normalize import InvalidValue, normalize_email, normalize_phone
from accord.crm.models import Account, Contact, OpportunityStage, Seniority


class TouchpointLogForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k.value, "Email" if k.value == "sales_email" else k.label) for k in LOGGABLE_KINDS])
    subject = forms.CharField(max_length=300, required=False)
    body = forms.CharField(max_length=10000, required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Notes")
    occurred_at = forms.DateTimeField(
        required=False,
        label="When (empty for now)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def _active_users():
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.display_name


class ContactForm(forms.Form):
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.CharField(max_length=254, required=False)
    phone = forms.CharField(max_length=40, required=False)
    job_title = forms.CharField(max_length=200, required=False)
    seniority = forms.ChoiceField(choices=Seniority.choices, required=False)
    account = forms.ModelChoiceField(queryset=Account.objects.order_by("name", "id"), required=False)
    owner = UserChoiceField(queryset=_active_users(), required=False)
    city = forms.CharField(max_length=100, required=False)
    country = forms.CharField(max_length=60, required=False, help_text="two letters, e.g. DE")
    do_not_contact = forms.BooleanField(required=False)
    interests = forms.CharField(max_length=1000, required=False, help_text="comma-separated")

    def clean_email(self) -> str:
        try:
            return normalize_email(self.cleaned_data["email"])
        except InvalidValue as bad:
            raise forms.ValidationError(str(bad)) from None

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"], settings.ACCORD_DEFAULT_PHONE_REGION)
        except InvalidValue as bad:
            raise forms.ValidationError(str(bad)) from None

    def clean_country(self) -> str:
        value = self.cleaned_data["country"].strip().upper()
        if value and (len(value) != 2 or not value.isalpha()):
            raise forms.ValidationError("use the two-letter country code, e.g. DE")
        return value

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("email") or data.get("first_name") or data.get("last_name")):
            raise forms.ValidationError("give at least a name or an email address")
        return data

    def interest_names(self) -> tuple[str, ...]:
        return tuple(n.strip() for n in self.cleaned_data["interests"].split(",") if n.strip())

    def contact_values(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name != "interests"}

    @classmethod
    def initial_for(cls, contact: Contact) -> dict:
        initial = {name: getattr(contact, name) for name in cls.base_fields if name != "interests"}
        initial["interests"] = ", ".join(i.name for i in contact.interests.all())
        return initial


class OpportunityForm(forms.Form):
    name = forms.CharField(max_length=200)
    account = forms.ModelChoiceField(queryset=Account.objects.order_by("name", "id"), required=False)
    primary_contact = forms.ModelChoiceField(
        queryset=Contact.objects.all(),
        required=False,
        widget=forms.NumberInput,
        label="Primary contact (id)",
        error_messages={"invalid_choice": "no contact has this id"},
    )
    owner = UserChoiceField(queryset=_active_users(), required=False)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    currency = forms.CharField(max_length=3, min_length=3, initial="USD")
    stage = forms.ChoiceField(choices=OpportunityStage.choices)
    close_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    lost_reason = forms.CharField(max_length=200, required=False, label="Reason (required when lost)")

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        if not value.isalpha():
            raise forms.ValidationError("use a three-letter currency code, e.g. EUR")
        return value

    def clean(self):
        data = super().clean()
        if data.get("stage") == OpportunityStage.LOST and not (data.get("lost_reason") or "").strip():
            self.add_error("lost_reason", "say why the deal was lost")
        return data
