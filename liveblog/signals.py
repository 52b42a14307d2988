"""Keep each entry's stored HTML in step with its bylines.

Bylines are a many-to-many relation, saved after the entry itself (the admin saves
them in ``save_related``), so ``Entry.save()`` alone would render the old authors.
"""

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from .models import Entry


@receiver(m2m_changed, sender=Entry.authors.through)
def rerender_after_bylines_change(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            instance.refresh_html()
        return
    # Changed from the person's side: person.entries_written.add(entry), or .clear(),
    # after which the cleared entries can no longer be found through the relation.
    if action == "pre_clear":
        instance._cleared_entry_ids = list(instance.entries_written.values_list("pk", flat=True))
    elif action in ("post_add", "post_remove", "post_clear"):
        ids = pk_set if action != "post_clear" else instance.__dict__.pop("_cleared_entry_ids", [])
        for entry in Entry.objects.select_related("story").filter(pk__in=ids):
            entry.refresh_html()
