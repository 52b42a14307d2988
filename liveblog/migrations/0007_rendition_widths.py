from django.db import migrations, models


class Migration(migrations.Migration):
    """Rendition.width is the rendition's real width; max_width the width asked for."""

    dependencies = [
        ("liveblog", "0006_story_change_steps"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="rendition", name="one_rendition_per_size"),
        migrations.RenameField(model_name="rendition", old_name="width", new_name="max_width"),
        migrations.RenameField(model_name="rendition", old_name="pixel_width", new_name="width"),
        migrations.AlterField(
            model_name="rendition",
            name="file",
            field=models.ImageField(
                height_field="height", upload_to="renditions/%Y/%m/", width_field="width"
            ),
        ),
        migrations.AddConstraint(
            model_name="rendition",
            constraint=models.UniqueConstraint(
                fields=("source", "max_width", "format"), name="one_rendition_per_size"
            ),
        ),
    ]
