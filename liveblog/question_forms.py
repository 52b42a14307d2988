"""The readers' form: a question or a tip about a story (issue 17)."""

from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator

from .models import Submission


class AskForm(forms.ModelForm):
    """A question or tip, an optional name to show with the answer and an optional
    e-mail for the newsroom; ``website`` is a honeypot that people never see."""

    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    class Meta:
        model = Submission
        fields = ["text", "name", "email"]
        labels = {
            "text": "Your question or tip",
            "name": "Your name (optional)",
            "email": "Your e-mail (optional)",
        }
        help_texts = {
            "name": "Shown with the answer if we publish one; otherwise “A reader asks”.",
            "email": "For the newsroom only: never published.",
        }
        widgets = {
            "text": forms.Textarea(attrs={"rows": 4}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.LIVEBLOG_ASK_MAX_CHARS
        self.fields["text"].max_length = limit
        self.fields["text"].widget.attrs["maxlength"] = limit
        self.fields["text"].validators.append(MaxLengthValidator(limit))
        self.fields["website"].widget.attrs["class"] = "ask-trap"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("Write your question or tip.")
        return text

    @property
    def is_bot(self):
        """Something filled in the field no person sees."""
        return bool(self.data.get("website"))
