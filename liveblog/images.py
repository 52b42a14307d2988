"""Photos: checked with Pillow on the way in, stored upright and without metadata,
served as renditions at a few widths.

Reporters upload from the field: a photo's EXIF can carry the GPS position of the
person who took it, so every upload is re-encoded from its pixels alone. Re-encoding
also drops whatever else rides in the file (a script appended to a GIF, a second
format's header), so only the image that Pillow decoded is ever served.
"""

import io
import os
import re
import secrets
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel camera; a decompression bomb is far beyond
# The formats we take, and the file name endings each may carry.
FORMATS = {
    "JPEG": (".jpg", ".jpeg"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "GIF": (".gif",),
}
RENDITION_WIDTHS = (480, 960, 1440)
# Each ending we take, and the one we store a file of its format under.
STORED_EXTENSIONS = {ext: endings[0] for endings in FORMATS.values() for ext in endings}


def check_image(upload):
    """Refuse, with a reason a reporter understands, anything but a sound image of an
    allowed format whose name says what it is. Returns Pillow's format name."""
    if upload.size > MAX_BYTES:
        raise ValidationError(
            f"The file is over {MAX_BYTES // (1024 * 1024)} MB. Send a smaller one."
        )
    too_big = f"more than we can take ({MAX_PIXELS // 1_000_000} megapixels)"
    upload.seek(0)
    try:
        # Pillow warns past its own limit (89 megapixels), which is above ours: the
        # check below refuses such an image, saying how big it is. (Threads share the
        # warning filters; all this one can change for another is to hide this warning.)
        with (
            warnings.catch_warnings(action="ignore", category=Image.DecompressionBombWarning),
            Image.open(upload) as image,
        ):
            image_format = image.format
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationError(f"The image is {width:,} × {height:,} pixels, {too_big}.")
            image.verify()
    except Image.DecompressionBombError as error:
        # Past twice its limit Pillow will not open the image at all; only its message
        # still says how many pixels the file claims.
        claimed = re.search(r"\((\d+) pixels\)", str(error))
        pixels = f"{int(claimed[1]):,} pixels" if claimed else "too many pixels"
        raise ValidationError(f"The image has {pixels}, {too_big}.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(
            "This file is not an image we can read (JPEG, PNG, WebP or GIF)."
        ) from None
    finally:
        upload.seek(0)
    if image_format not in FORMATS:
        raise ValidationError(
            f"{image_format} images are not accepted: use JPEG, PNG, WebP or GIF."
        )
    extension = os.path.splitext(upload.name)[1].lower()
    if extension not in FORMATS[image_format]:
        raise ValidationError(
            f"The file is named “{upload.name}” but holds a {image_format} image: rename it or "
            "export it again."
        )
    return image_format


def stored_name(filename):
    """A name to store an image under that says nothing of the one it came with (a
    reporter's file name can name a source or a place): random, ending as its format
    does. The ending of ``filename`` was checked against the image's content."""
    extension = STORED_EXTENSIONS.get(os.path.splitext(filename)[1].lower(), "")
    return secrets.token_hex(16) + extension


def clean_image(upload):
    """The upload re-encoded from its pixels: upright (EXIF orientation applied), with
    no EXIF, GPS, comments or other metadata. Returns a ContentFile named for the format
    Pillow found. An animated GIF keeps its first frame."""
    image_format = check_image(upload)
    try:
        return _reencode(upload, image_format)
    except (OSError, SyntaxError, ValueError):
        # verify() passes some truncated JPEGs and GIFs; decoding them does not.
        raise ValidationError("The image is damaged or incomplete: send it again.") from None
    finally:
        upload.seek(0)


def _reencode(upload, image_format):
    with Image.open(upload) as image:
        image.load()
        upright = ImageOps.exif_transpose(image)
        # A new image from the raw pixels carries nothing of the old file's metadata.
        pixels = Image.frombytes(upright.mode, upright.size, upright.tobytes())
        if upright.mode == "P":
            pixels.putpalette(upright.getpalette())
        options = {"JPEG": {"quality": 88, "optimize": True}, "WEBP": {"quality": 85}}
        options = dict(options.get(image_format, {}))
        if "transparency" in upright.info and image_format in ("PNG", "GIF"):
            options["transparency"] = upright.info["transparency"]
        buffer = io.BytesIO()
        pixels.save(buffer, format=image_format, **options)
    return ContentFile(buffer.getvalue(), name=f"photo{FORMATS[image_format][0]}")


def make_rendition(source_file, width, image_format):
    """The image scaled to ``width`` (never up) as ``image_format`` bytes, or None if
    the source file is missing."""
    try:
        source_file.open("rb")
    except (FileNotFoundError, OSError):
        return None
    try:
        with Image.open(source_file) as image:
            image.load()
            scaled = image.copy()
    finally:
        source_file.close()
    if scaled.width > width:
        scaled.thumbnail((width, width * 10))
    if image_format == "JPEG" and scaled.mode not in ("RGB", "L"):
        scaled = scaled.convert("RGB")
    if image_format == "WEBP" and scaled.mode == "P":
        scaled = scaled.convert("RGBA")
    buffer = io.BytesIO()
    scaled.save(buffer, format=image_format, quality=82)
    return buffer.getvalue(), scaled.size


def image_size(image_file):
    """The stored image's (width, height), read from its header only; None if the file
    is missing or unreadable."""
    try:
        image_file.open("rb")
    except OSError:
        return None
    try:
        with Image.open(image_file) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    finally:
        image_file.close()
