from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from liveblog.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write one archive of the database and the media files, with a manifest of row "
        "counts and checksums, and print its path."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--directory",
            default=settings.BACKUP_DIR,
            help="where to write the archive (BACKUP_DIR; default var/backups)",
        )

    def handle(self, *args, directory, **options):
        try:
            path = backup_create(directory=directory)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(path))
