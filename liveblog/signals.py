"""Changes that reach models through relations and deletes rather than ``save()``.

They go through the change pipeline (changes.py) like saves do. Bylines are a
many-to-many relation, saved after the entry itself (the admin saves them in
``save_related``), so ``Entry.save()`` alone would render the old authors. Deletes (one
at a time, bulk, or cascading) never call a model method we own.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, pre_delete
from django.dispatch import receiver

from . import changes
from .models import Entry, KeyPoint, Person, Story, StoryChange


def announce_rendered(entries):
    for entry in entries:
        # A byline changes nothing readers see of a draft or scheduled entry until it
        # appears (see changes.announce).
        seen = entry.is_shown
        changes.announce(entry.story_id, StoryChange.Kind.ENTRY, render=[entry], seen=seen)


@receiver(m2m_changed, sender=Entry.authors.through)
def announce_byline_change(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            announce_rendered([instance])
        return
    # Changed from the person's side: person.entries_written.add(entry), or .clear(),
    # after which the cleared entries can no longer be found through the relation.
    if action == "pre_clear":
        instance._cleared_entry_ids = list(instance.entries_written.values_list("pk", flat=True))
    elif action in ("post_add", "post_remove", "post_clear"):
        ids = pk_set if action != "post_clear" else instance.__dict__.pop("_cleared_entry_ids", [])
        with changes.batch():
            announce_rendered(Entry.objects.select_related("story").filter(pk__in=ids))


def _deleting_the_story(origin):
    # When the whole story goes, its change log goes with it: nobody is left to tell.
    return isinstance(origin, Story) or getattr(origin, "model", None) is Story


@receiver(post_delete, sender=Entry)
def announce_entry_removal(sender, instance, origin=None, **kwargs):
    if not _deleting_the_story(origin):
        changes.announce(instance.story_id, StoryChange.Kind.ENTRY_REMOVED, entry_ids=[instance.pk])


@receiver(post_delete, sender=KeyPoint)
def announce_key_point_removal(sender, instance, origin=None, **kwargs):
    if not _deleting_the_story(origin):
        changes.announce(instance.story_id, StoryChange.Kind.KEY_POINTS)


@receiver(post_delete, sender=Story)
def forget_deleted_story(sender, instance, **kwargs):
    transaction.on_commit(lambda: changes.forget_slug(instance.slug), robust=True)


@receiver(pre_delete, sender=Person)
def remember_bylined_entries(sender, instance, **kwargs):
    instance._bylined_entry_ids = list(instance.entries_written.values_list("pk", flat=True))


@receiver(post_delete, sender=Person)
def announce_byline_removal(sender, instance, **kwargs):
    ids = instance.__dict__.pop("_bylined_entry_ids", [])
    with changes.batch():
        announce_rendered(Entry.objects.select_related("story").filter(pk__in=ids))
