from .audit import AuditEvent
from .base import (
    EditConflict,
    Revisioned,
    default_time_zone,
    validate_image,
    validate_time_zone,
)
from .entries import Entry, EntryQuerySet, Rendition
from .people import Person, StaffLogin
from .purges import Purge
from .stories import KeyPoint, KeyPointQuerySet, Story, StoryChange, StoryQuerySet
from .submissions import Submission, SubmissionQuerySet

__all__ = [
    "AuditEvent",
    "EditConflict",
    "Entry",
    "EntryQuerySet",
    "KeyPoint",
    "KeyPointQuerySet",
    "Person",
    "Purge",
    "Rendition",
    "Revisioned",
    "StaffLogin",
    "Story",
    "StoryChange",
    "StoryQuerySet",
    "Submission",
    "SubmissionQuerySet",
    "default_time_zone",
    "validate_image",
    "validate_time_zone",
]
