from django import forms

from .models import Entry

# The largest id a bigint column holds. A bigger number in a crafted POST made SQLite
# raise OverflowError (a 500) in the choice fields and again in the widgets that
# redisplay the form, where it should be a form error.
MAX_ID = 2**63 - 1
CHOICE_FIELDS = ("story", "authors", "people")


def is_id(value):
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID


class EntryAdminForm(forms.ModelForm):
    class Meta:
        model = Entry
        fields = ["story", "published_at", "headline", "dateline", "body", "authors", "people"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._bad_choices = []
        if self.is_bound and any(self.add_prefix(name) in self.data for name in CHOICE_FIELDS):
            self.data = self.data.copy()
            for name in CHOICE_FIELDS:
                key = self.add_prefix(name)
                values = self.data.getlist(key)
                if any(not is_id(v) for v in values):
                    self._bad_choices.append(name)
                    self.data.setlist(key, [v for v in values if is_id(v)])

    def clean(self):
        cleaned = super().clean()
        for name in self._bad_choices:
            self.add_error(name, "That is not one of the available choices.")
        return cleaned
