from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import BaseCommand, CommandError, call_command
from django.db import transaction
from django.db.models import Max

from liveblog import changes
from liveblog.models import Person, Story, StoryChange
from liveblog.roles import EDITORS, REPORTERS

DEMO_STORY = "us-iran-iraq-live-updates"
# Demo-only logins, printed by `make run`. Never use these on a server anyone can reach.
DEMO_LOGINS = [
    ("editor", "demo-editor-2020", EDITORS, "morgan-hale"),
    ("reporter", "demo-reporter-2020", REPORTERS, "jordan-pike"),
    ("reporter2", "demo-reporter2-2020", REPORTERS, "sam-okafor"),
]


class Command(BaseCommand):
    help = (
        "Load the demo story (fixtures/demo_story.json) once and create the demo logins. "
        "Safe to rerun: changes made to the demo story are kept unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="reload the demo story as shipped")
        parser.add_argument(
            "--force",
            action="store_true",
            help="load even with DEBUG off (the demo logins' passwords are public)",
        )

    @transaction.atomic
    def handle(self, *args, reset, force, **options):
        if not settings.DEBUG and not force:
            # DEBUG off means a server others may reach, where logins whose passwords
            # are printed in the README would be an open door.
            raise CommandError(
                "DEBUG is off: this looks like a production server, and the demo creates "
                "staff logins whose passwords are published in the README. Nothing was "
                "loaded. Use --force to load it anyway (a staging server nobody else reaches)."
            )
        if Story.objects.filter(slug=DEMO_STORY).exists() and not reset:
            self.stdout.write(
                f"Demo story already loaded (--reset reloads it): /stories/{DEMO_STORY}/"
            )
        else:
            self.load_story()
        self.create_logins()

    def load_story(self):
        # Everything loaded, bylines included, reaches open pages as one change.
        with changes.batch():
            call_command("loaddata", "demo_story", verbosity=0)
            # loaddata writes raw rows: the fixture's version would rewind the story's,
            # so continue from its change log, then render what was loaded.
            story = Story.objects.get(slug=DEMO_STORY)
            last = story.changes.aggregate(last=Max("version"))["last"] or 0
            Story.objects.filter(pk=story.pk).update(version=last)
            for entry in story.entries.all():
                entry.save()  # renders its Markdown and HTML
            changes.announce(story.pk, StoryChange.Kind.RELOAD)
        # Its last change is its last update's, as it was on the night, not the loading.
        last_update = story.entries.aggregate(last=Max("published_at"))["last"]
        Story.objects.filter(pk=story.pk).update(updated_at=last_update)

    def create_logins(self):
        User = get_user_model()
        for username, password, role, person_slug in DEMO_LOGINS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = True
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            Person.objects.filter(slug=person_slug).update(user=user)

        self.stdout.write(
            self.style.WARNING("Demo logins (DEMO ONLY: never use these on a real server):")
        )
        self.stdout.write(f"  {'role':9} {'login':10} password")
        for username, password, role, _ in DEMO_LOGINS:
            self.stdout.write(f"  {role[:-1].lower():9} {username:10} {password}")
