import io
import struct
import uuid
import zlib

import pytest
from django.contrib import auth
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from liveblog import images, renditions
from liveblog.images import check_image, clean_image
from liveblog.models import Entry, Person, Rendition, Story

from .admin_posts import admin_entry_post, change_url
from .factories import EntryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def image_bytes(fmt="JPEG", size=(640, 480), color=(200, 30, 30), exif=None):
    buffer = io.BytesIO()
    options = {"exif": exif} if exif is not None else {}
    Image.new("RGB", size, color).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def upload(name, content, content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def gps_exif(orientation=None):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (33.0, 18.0, 45.0)  # latitude: Baghdad
    gps[3], gps[4] = "E", (44.0, 21.0, 59.0)
    return exif


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.jpg", "JPEG"), ("a.jpeg", "JPEG"), ("a.png", "PNG"), ("a.webp", "WEBP"), ("a.gif", "GIF")],
)
def test_allowed_formats_pass(name, fmt):
    assert check_image(upload(name, image_bytes(fmt))) == fmt


def test_other_formats_are_refused_with_a_reason():
    with pytest.raises(ValidationError, match="BMP images are not accepted"):
        check_image(upload("a.bmp", image_bytes("BMP")))


def test_a_file_whose_name_lies_about_its_content_is_refused():
    with pytest.raises(ValidationError, match="holds a PNG image"):
        check_image(upload("photo.jpg", image_bytes("PNG")))


def test_something_that_is_not_an_image_is_refused():
    with pytest.raises(ValidationError, match="not an image we can read"):
        check_image(upload("photo.png", b"<html><script>alert(1)</script></html>"))


def test_a_truncated_image_is_refused():
    with pytest.raises(ValidationError):
        check_image(upload("photo.png", image_bytes("PNG")[:60]))


def png_claiming(width, height):
    """A tiny PNG whose header claims width × height pixels."""
    png = bytearray(image_bytes("PNG", size=(1, 1)))
    ihdr = png.index(b"IHDR")
    png[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    png[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(png[ihdr : ihdr + 17])))
    return bytes(png)


# 50 megapixels is past our limit; 100 past Pillow's warning (89); 400 past its refusal (179).
OVERSIZED = pytest.mark.parametrize(
    "size", [(10_000, 5_000), (10_000, 10_000), (20_000, 20_000)], ids=["50MP", "100MP", "400MP"]
)
TOO_BIG = "more than we can take (40 megapixels)"


@pytest.mark.parametrize("side", [8_000, 50_000])  # 64 megapixels; a 2.5-gigapixel bomb
def test_a_decompression_bomb_is_refused_without_decoding_it(side):
    with pytest.raises(ValidationError, match="than we can take"):
        check_image(upload("bomb.png", png_claiming(side, side)))


def test_an_image_pillow_refuses_to_open_is_refused_with_its_pixel_count():
    with pytest.raises(ValidationError, match=r"has 400,000,000 pixels, more than we can take"):
        check_image(upload("huge.png", png_claiming(20_000, 20_000)))


def post_from_desk(client, story, photo):
    user = auth.get_user(client)
    return client.post(
        reverse("liveblog:desk", args=[story.slug]),
        {
            "authors": [user.person.pk],
            "headline": "Satellite view",
            "body": "The base from above.",
            "photo": photo,
            "photo_alt": "The base from above",
            "submission_id": str(uuid.uuid4()),
        },
    )


@OVERSIZED
def test_an_oversized_photo_is_refused_at_the_desk_for_its_size(client, reporter, story, size):
    client.force_login(reporter)
    response = post_from_desk(client, story, upload("huge.png", png_claiming(*size), "image/png"))
    assert response.status_code == 400
    assert TOO_BIG in response.content.decode()
    assert not Entry.objects.exists()


@OVERSIZED
def test_an_oversized_photo_is_refused_in_the_admin_entry_form_for_its_size(
    client, editor, story, size
):
    entry = EntryFactory(story=story)
    client.force_login(editor)
    photo = upload("huge.png", png_claiming(*size), "image/png")
    data = admin_entry_post(entry, photo=photo, photo_alt="The base from above")
    response = client.post(change_url(entry), data)
    assert response.status_code == 200
    assert TOO_BIG in response.context["adminform"].form.errors["photo"][0]


@OVERSIZED
def test_an_oversized_headshot_is_refused_in_the_admin_for_its_size(client, editor, size):
    client.force_login(editor)
    photo = upload("huge.png", png_claiming(*size), "image/png")
    response = client.post(
        reverse("admin:liveblog_person_add"), {"name": "X", "slug": "x", "photo": photo}
    )
    assert response.status_code == 200
    assert TOO_BIG in response.context["adminform"].form.errors["photo"][0]
    assert not Person.objects.filter(slug="x").exists()


def test_a_file_over_the_byte_limit_is_refused(monkeypatch):
    monkeypatch.setattr(images, "MAX_BYTES", 1000)
    with pytest.raises(ValidationError, match="over"):
        check_image(upload("big.jpg", image_bytes(size=(800, 800))))


def test_exif_and_gps_are_stripped():
    original = image_bytes(exif=gps_exif())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    cleaned = Image.open(clean_image(upload("field.jpg", original)))
    assert dict(cleaned.getexif()) == {}
    assert "exif" not in cleaned.info


def test_the_photo_is_stored_upright():
    sideways = image_bytes(size=(400, 200), exif=gps_exif(orientation=6))  # "rotate 90° to view"
    cleaned = Image.open(clean_image(upload("phone.jpg", sideways)))
    assert cleaned.size == (200, 400)


def test_a_polyglot_keeps_only_its_image():
    gif = image_bytes("GIF", size=(10, 10)) + b"<script>alert(document.cookie)</script>"
    cleaned = clean_image(upload("trick.gif", gif)).read()
    assert b"<script>" not in cleaned
    assert Image.open(io.BytesIO(cleaned)).format == "GIF"


def photo_entry(story, **fields):
    entry = EntryFactory.build(story=story, photo_alt="Soldiers at the base", **fields)
    entry.photo = clean_image(upload("base.jpg", image_bytes(size=(1600, 900))))
    entry.save()
    renditions.make_due()  # as the app's worker does after the answer
    return Entry.objects.get(pk=entry.pk)


def test_an_entry_photo_gets_responsive_renditions_with_webp(story):
    entry = photo_entry(story, photo_caption="The base at dawn.", photo_credit="Jordan Pike")
    assert '<source type="image/webp" srcset="' in entry.html
    assert "480w" in entry.html and "960w" in entry.html and "1440w" in entry.html
    assert 'alt="Soldiers at the base"' in entry.html
    assert 'loading="lazy"' in entry.html
    assert "The base at dawn." in entry.html and "Jordan Pike" in entry.html


def test_renditions_are_made_once_and_reused(story):
    entry = photo_entry(story)
    count = Rendition.objects.count()
    assert count == 6  # three widths, WebP and JPEG
    entry.headline = "Edited"
    entry.save()
    Rendition.for_file(entry.photo)
    assert Rendition.objects.count() == count


def test_a_small_photo_is_not_scaled_up(story):
    entry = EntryFactory.build(story=story, photo_alt="A small photo")
    entry.photo = clean_image(upload("small.png", image_bytes("PNG", size=(300, 200))))
    entry.save()
    renditions.make_due()
    assert {r.width for r in Rendition.objects.all()} == {300}
    assert "300w" in Entry.objects.get(pk=entry.pk).html


def test_a_missing_photo_file_shows_a_placeholder(story, media):
    entry = photo_entry(story)
    Rendition.objects.all().delete()
    entry.photo.storage.delete(entry.photo.name)
    entry.save()
    html = Entry.objects.get(pk=entry.pk).html
    assert "photo-missing.svg" in html
    assert 'alt="Soldiers at the base"' in html


def test_a_photo_needs_alt_text(story):
    entry = EntryFactory.build(story=story)
    entry.photo = "entries/x.jpg"
    with pytest.raises(ValidationError) as error:
        entry.full_clean()
    assert "photo_alt" in error.value.message_dict


def test_a_headshot_uploaded_in_the_admin_is_cleaned(client, editor):
    client.force_login(editor)
    photo = upload("headshot.jpg", image_bytes(size=(300, 400), exif=gps_exif()))
    response = client.post(
        reverse("admin:liveblog_person_add"),
        {"name": "Mark Esper", "slug": "mark-esper", "title": "Defense Secretary", "photo": photo},
    )
    assert response.status_code == 302
    stored = Image.open(Person.objects.get(slug="mark-esper").photo.path)
    assert dict(stored.getexif()) == {}


def test_a_headshot_that_is_not_an_image_is_refused_in_the_admin(client, editor):
    client.force_login(editor)
    response = client.post(
        reverse("admin:liveblog_person_add"),
        {"name": "X", "slug": "x", "photo": upload("x.png", b"<svg onload=alert(1)>")},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["photo"]
    assert not Person.objects.filter(slug="x").exists()


# Words of a reporter's file name that must not reach the published address.
SECRET_WORDS = ("secret", "source", "gps")


@pytest.mark.parametrize(
    ("name", "fmt", "extension"),
    [
        ("secret-source-gps.jpg", "JPEG", ".jpg"),
        ("Secret-Source-GPS.JPEG", "JPEG", ".jpg"),
        ("secret-source-gps.png", "PNG", ".png"),
    ],
)
def test_a_photo_is_stored_under_a_random_name_with_its_format_extension(
    client, reporter, story, name, fmt, extension
):
    client.force_login(reporter)
    assert post_from_desk(client, story, upload(name, image_bytes(fmt))).status_code == 302
    stored = Entry.objects.get().photo.name
    assert stored.startswith("entries/")
    assert stored.endswith(extension)
    assert not any(word in stored.lower() for word in SECRET_WORDS)


def test_renditions_are_stored_under_random_names(client, reporter, story):
    client.force_login(reporter)
    post_from_desk(client, story, upload("secret-source-gps.jpg", image_bytes()))
    renditions.make_due()
    names = list(Rendition.objects.values_list("file", flat=True))
    assert len(names) == 6
    assert all(name.endswith((".webp", ".jpg")) for name in names)
    assert not any(word in name.lower() for name in names for word in SECRET_WORDS)


def test_a_headshot_is_stored_under_a_random_name(client, editor):
    client.force_login(editor)
    photo = upload("secret-source-gps.jpg", image_bytes(size=(300, 400)))
    client.post(
        reverse("admin:liveblog_person_add"),
        {"name": "Mark Esper", "slug": "esper", "photo": photo},
    )
    stored = Person.objects.get(slug="esper").photo.name
    assert stored.startswith("people/")
    assert stored.endswith(".jpg")
    assert not any(word in stored.lower() for word in SECRET_WORDS)


# --- Renditions off the request path --------------------------------------------------


def test_publishing_makes_no_renditions_and_shows_the_photo_at_its_size(client, reporter, story):
    client.force_login(reporter)
    assert (
        post_from_desk(client, story, upload("big.jpg", image_bytes(size=(1600, 900)))).status_code
        == 302
    )
    entry = Entry.objects.get()
    assert not Rendition.objects.exists()
    assert f'src="{entry.photo.url}"' in entry.html
    assert 'width="1600" height="900"' in entry.html  # the space is reserved: nothing shifts
    assert "image/webp" not in entry.html


def test_the_worker_makes_renditions_and_tells_open_pages(client, reporter, story):
    client.force_login(reporter)
    post_from_desk(client, story, upload("big.jpg", image_bytes(size=(1600, 900))))
    entry = Entry.objects.get()
    version = Story.objects.get(pk=story.pk).version
    assert renditions.make_due() == 1
    assert Rendition.objects.count() == 6
    story.refresh_from_db()
    assert story.version == version + 1
    assert entry.pk in story.changes.last().entry_ids
    assert '<source type="image/webp"' in Entry.objects.get(pk=entry.pk).html
    assert renditions.make_due() == 0  # done once


def test_the_command_makes_renditions_of_older_photos_too(story, clock):
    entry = EntryFactory.build(story=story, photo_alt="A photo")
    entry.photo = clean_image(upload("old.jpg", image_bytes(size=(800, 600))))
    entry.save()
    clock.advance(days=2)
    assert renditions.make_due() == 0  # the workers look at recent photos only
    call_command("make_renditions", stdout=io.StringIO())
    assert Rendition.objects.filter(source=entry.photo.name).count() == 6


def test_a_publish_with_a_36_megapixel_photo_does_not_wait_for_renditions(
    client, reporter, story, monkeypatch
):
    # Making renditions is what took seconds: the publish must not call it at all.
    def slow(*args, **kwargs):
        raise AssertionError("renditions made inside the request")

    monkeypatch.setattr(images, "make_rendition", slow)
    monkeypatch.setattr("liveblog.models.entries.make_rendition", slow)
    big = Image.linear_gradient("L").resize((6928, 5196))  # 36 megapixels
    buffer = io.BytesIO()
    big.save(buffer, format="JPEG")
    client.force_login(reporter)
    assert post_from_desk(client, story, upload("big.jpg", buffer.getvalue())).status_code == 302
    assert 'width="6928" height="5196"' in Entry.objects.get().html
