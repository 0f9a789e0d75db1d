from __future__ import annotations

from django import forms

from accord.campaigns.models import CampaignStatus, Channel
from accord.core.models import User


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.display_name


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    channel = forms.ChoiceField(choices=Channel.choices)
    status = forms.ChoiceField(choices=CampaignStatus.choices)
    utm_source = forms.CharField(max_length=100, required=False)
    utm_medium = forms.CharField(max_length=100, required=False)
    utm_campaign = forms.CharField(max_length=100, required=False)
    start_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    budget = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    actual_cost = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    currency = forms.CharField(max_length=3, min_length=3, initial="USD")
    goal = forms.CharField(max_length=300, required=False)
    owner = OwnerField(queryset=User.objects.filter(is_active=True).order_by("first_name", "username"), required=False)

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        if not value.isalpha():
            raise forms.ValidationError("use a three-letter currency code, e.g. EUR")
        return value

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "is before the start date")
        return data
