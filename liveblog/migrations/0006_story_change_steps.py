from django.db import migrations, models


def to_lists(apps, schema_editor):
    StoryChange = apps.get_model("liveblog", "StoryChange")
    for change in StoryChange.objects.all().iterator():
        change.kinds = [change.kind]
        change.entry_ids = [change.entry_id] if change.entry_id is not None else []
        change.save(update_fields=["kinds", "entry_ids"])


def to_columns(apps, schema_editor):
    StoryChange = apps.get_model("liveblog", "StoryChange")
    for change in StoryChange.objects.all().iterator():
        # A step of several kinds or entries has no one-column form: open pages reload.
        lossy = len(change.kinds) != 1 or len(change.entry_ids) > 1
        change.kind = "reload" if lossy else change.kinds[0]
        change.entry_id = None if lossy or not change.entry_ids else change.entry_ids[0]
        change.save(update_fields=["kind", "entry_id"])


class Migration(migrations.Migration):
    """One StoryChange per version, naming every kind and entry of that step."""

    dependencies = [
        ("liveblog", "0005_desk_and_photos"),
    ]

    operations = [
        migrations.AddField(
            model_name="storychange",
            name="kinds",
            field=models.JSONField(default=list),
        ),
        migrations.AddField(
            model_name="storychange",
            name="entry_ids",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name="storychange",
            name="kind",
            field=models.CharField(max_length=20, blank=True, default=""),
        ),
        migrations.RunPython(to_lists, to_columns),
        migrations.RemoveField(model_name="storychange", name="kind"),
        migrations.RemoveField(model_name="storychange", name="entry_id"),
    ]
