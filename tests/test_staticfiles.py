"""collectstatic in production: the page scripts are minified, hashed and compressed."""

import json
import shutil
import subprocess

import pytest
from django.core.management import call_command

SOURCE = "static/liveblog/story.js"


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "liveblog.staticfiles.MinifiedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    return tmp_path, manifest


def test_collectstatic_minifies_the_page_scripts(collected, settings):
    root, manifest = collected
    source = (settings.BASE_DIR / SOURCE).read_text()
    hashed = root / manifest["liveblog/story.js"]
    minified = hashed.read_text()
    assert len(minified) < 0.7 * len(source)
    assert "// Story page" not in minified  # comments gone
    assert "\n  " not in minified  # no indentation left
    assert (root / "liveblog/story.js").read_text() == minified  # the plain name too
    assert (root / f"{manifest['liveblog/story.js']}.gz").exists()  # still compressed
    node = shutil.which("node")
    if node:  # the minified script still parses
        subprocess.run([node, "--check", str(hashed)], check=True, timeout=60)


def test_vendored_minified_files_are_left_as_they_are(collected, settings):
    root, manifest = collected
    css = "vendor/bootstrap-5.3.9/bootstrap.min.css"
    assert (root / manifest[css]).read_bytes() == (settings.BASE_DIR / "static" / css).read_bytes()
