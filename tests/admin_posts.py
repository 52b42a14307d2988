"""Admin form data for tests: what the admin's change forms post."""

from django.urls import reverse
from django.utils import timezone

from liveblog.models import Entry, Story


def change_url(obj):
    return reverse(f"admin:liveblog_{obj._meta.model_name}_change", args=[obj.pk])


def story_post(story, **overrides):
    data = {
        "headline": story.headline,
        "slug": story.slug,
        "status": story.status,
        "lede": story.lede,
        "key_points_heading": story.key_points_heading,
        "time_zone": story.time_zone,
        "language": story.language,
        "revision": Story.objects.get(pk=story.pk).revision,
        "key_points-TOTAL_FORMS": "1",
        "key_points-INITIAL_FORMS": "0",
        "key_points-0-position": "1",
        "key_points-0-text": "A new key point",
        "key_points-0-pinned": "on",
    }
    data.update(overrides)
    return data


def admin_entry_post(entry, **overrides):
    local = timezone.localtime(entry.published_at, entry.story.tzinfo)
    data = {
        "story": entry.story_id,
        "status": entry.status,
        "published_at_0": local.strftime("%Y-%m-%d"),
        "published_at_1": local.strftime("%H:%M:%S"),
        "headline": entry.headline,
        "dateline": entry.dateline,
        "body": entry.body,
        "correction": entry.correction,
        "revision": Entry.objects.get(pk=entry.pk).revision,
        # The admin posts the bylines it shows: left out, they would be removed.
        "authors": [person.pk for person in entry.authors.all()],
    }
    data.update(overrides)
    return data
