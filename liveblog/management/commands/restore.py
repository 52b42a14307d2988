from django.core.management.base import BaseCommand, CommandError

from liveblog.backups import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore an archive made by `backup` into the empty database of DATABASE_URL and "
        "the empty MEDIA_ROOT, checking its manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="the .tar file `backup` printed")

    def handle(self, *args, archive, **options):
        try:
            manifest = backup_restore(archive=archive)
        except (BackupError, OSError, KeyError) as error:
            raise CommandError(f"Not restored: {error}") from None
        rows = sum(manifest["counts"].values())
        self.stdout.write(
            f"Restored {rows} rows and {len(manifest['media'])} media files "
            f"from the backup of {manifest['created_at']}; checksums and counts match."
        )
