from django import forms


class WebhookSubscriptionForm(forms.Form):
    url = forms.CharField(label="Address (URL)", max_length=500)
    kinds = forms.CharField(
        label="Event kinds",
        required=False,
        max_length=1000,
        help_text="Comma-separated, e.g. handoff.breached, contact.* — leave empty for every event.",
    )
    description = forms.CharField(required=False, max_length=200)

    def kind_list(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data.get("kinds", "").split(",") if part.strip()]
