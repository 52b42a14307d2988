"""Changes that reach models through relations and deletes rather than ``save()``.

Bylines are a many-to-many relation, saved after the entry itself (the admin saves
them in ``save_related``), so ``Entry.save()`` alone would render the old authors.
Deletes (one at a time, bulk, or cascading) never call a model method we own.
"""

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from .models import Entry, KeyPoint, Person, Story, StoryChange, version_cache_key


@receiver(m2m_changed, sender=Entry.authors.through)
def publish_byline_change(sender, instance, action, reverse, pk_set, **kwargs):
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            instance.publish_change()
        return
    # Changed from the person's side: person.entries_written.add(entry), or .clear(),
    # after which the cleared entries can no longer be found through the relation.
    if action == "pre_clear":
        instance._cleared_entry_ids = list(instance.entries_written.values_list("pk", flat=True))
    elif action in ("post_add", "post_remove", "post_clear"):
        ids = pk_set if action != "post_clear" else instance.__dict__.pop("_cleared_entry_ids", [])
        for entry in Entry.objects.select_related("story").filter(pk__in=ids):
            entry.publish_change()


def _deleting_the_story(origin):
    # When the whole story goes, its change log goes with it: nobody is left to tell.
    return isinstance(origin, Story) or getattr(origin, "model", None) is Story


@receiver(post_delete, sender=Entry)
def publish_entry_removal(sender, instance, origin=None, **kwargs):
    if not _deleting_the_story(origin):
        Story(pk=instance.story_id).bump_version(StoryChange.Kind.ENTRY_REMOVED, instance.pk)


@receiver(post_save, sender=KeyPoint)
@receiver(post_delete, sender=KeyPoint)
def publish_key_points_change(sender, instance, raw=False, origin=None, **kwargs):
    if not raw and not _deleting_the_story(origin):
        Story(pk=instance.story_id).bump_version(StoryChange.Kind.KEY_POINTS)


@receiver(post_delete, sender=Story)
def forget_deleted_story_version(sender, instance, **kwargs):
    transaction.on_commit(lambda: cache.delete(version_cache_key(instance.slug)))


@receiver(pre_delete, sender=Person)
def remember_bylined_entries(sender, instance, **kwargs):
    instance._bylined_entry_ids = list(instance.entries_written.values_list("pk", flat=True))


@receiver(post_delete, sender=Person)
def publish_byline_removal(sender, instance, **kwargs):
    ids = instance.__dict__.pop("_bylined_entry_ids", [])
    for entry in Entry.objects.select_related("story").filter(pk__in=ids):
        entry.publish_change()
