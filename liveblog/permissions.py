"""Who may do what: every permission rule of the newsroom, decided in one place.

The roles and the Django permissions they hold are defined in roles.py; the functions
here turn those permissions into the decisions the admin, the desk, the forms and the
previews make. It imports no model, so the models may ask it too.
"""

from django.db.models import Q


def is_editor(user):
    """Editors run the story: they change and delete any entry, unpublish, attach
    corrections, move an entry to another story, restore old revisions and use the
    bulk actions. Reporters do none of these."""
    return user.has_perm("liveblog.change_any_entry")


def entries_editable_by(user, entries):
    """The entries of the queryset ``entries`` that ``user`` may change: any of them
    for an editor, otherwise those the user wrote (a byline) or created."""
    if is_editor(user):
        return entries
    if not user.is_authenticated:
        return entries.none()
    return entries.filter(Q(created_by=user) | Q(authors__user=user)).distinct()


def can_edit_entry(user, entry):
    """Whether ``user`` may change (and preview) ``entry``: see entries_editable_by."""
    if is_editor(user):
        return True
    entries = type(entry)._default_manager.filter(pk=entry.pk)
    return entries_editable_by(user, entries).exists()


def can_post_entries(user):
    """Whether ``user`` is staff who may post entries (at the desk, as in the admin)."""
    return user.is_staff and user.has_perm("liveblog.add_entry")


def can_reopen_story(user):
    """Whether ``user`` may make an ended story live again (from its desk): editors."""
    return user.has_perm("liveblog.change_story")


def can_edit_key_points(user):
    """Whether ``user`` may add, reorder, pin and unpin a story's key points."""
    return user.has_perm("liveblog.change_keypoint") and user.has_perm("liveblog.add_keypoint")


def byline_refusal(user, authors):
    """Why ``user`` may not post or save an entry with the bylines ``authors`` (people),
    or None when they may. An editor posts under anyone's name, or none (an agency
    item); anyone else's entry carries their own byline, others' beside it if they like."""
    if is_editor(user):
        return None
    own = getattr(user, "person", None)
    if own is None:
        return "Your login has no byline yet: ask an editor to link it to your name."
    if own not in authors:
        return f"Your own byline goes on your entries: keep “{own.name}” (others may be added)."
    return None


def can_answer_questions(user, story):
    """Whether ``user`` sees ``story``'s readers' questions and decides on them: editors,
    and the story's reporters (a byline or an entry of theirs in it)."""
    if not can_post_entries(user):
        return False
    if is_editor(user):
        return True
    return story.entries.filter(Q(created_by=user) | Q(authors__user=user)).exists()
