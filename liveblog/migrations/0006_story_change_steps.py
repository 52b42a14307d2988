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
        change.kind = change.kinds[0] if change.kinds else "reload"
        change.entry_id = change.entry_ids[0] if change.entry_ids else None
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
