from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import BaseCommand, call_command
from django.db import transaction

from liveblog.models import Entry, Person
from liveblog.roles import EDITORS, REPORTERS

# Demo-only logins, printed by `make run`. Never use these on a server anyone can reach.
DEMO_LOGINS = [
    ("editor", "demo-editor-2020", EDITORS, "morgan-hale"),
    ("reporter", "demo-reporter-2020", REPORTERS, "jordan-pike"),
    ("reporter2", "demo-reporter2-2020", REPORTERS, "sam-okafor"),
]


class Command(BaseCommand):
    help = (
        "Load the demo story (fixtures/demo_story.json) and create the demo logins. Safe to rerun."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        call_command("loaddata", "demo_story", verbosity=0)
        User = get_user_model()
        for username, password, role, person_slug in DEMO_LOGINS:
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = True
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            Person.objects.filter(slug=person_slug).update(user=user)
        # loaddata saves raw rows, bypassing Entry.save(): render the stored HTML now.
        for entry in Entry.objects.select_related("story"):
            entry.refresh_html()

        self.stdout.write(
            self.style.WARNING("Demo logins (DEMO ONLY: never use these on a real server):")
        )
        for username, password, role, _ in DEMO_LOGINS:
            self.stdout.write(f"  {role[:-1].lower():9} {username:10} password: {password}")
