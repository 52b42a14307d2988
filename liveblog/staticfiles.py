"""Static files in production: the page scripts minified before whitenoise hashes and
compresses them (collectstatic), so readers download them small."""

import rjsmin
from django.core.files.base import ContentFile
from whitenoise.storage import CompressedManifestStaticFilesStorage


class MinifiedManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's hashed, compressed storage, with our own scripts minified first.

    Files already minified (``.min.js``, the vendored ones) are left as they are. Each
    script is minified into the collected copy, and the hashing that follows reads that
    copy instead of the source: the hashed name is then the minified content's.
    """

    def post_process(self, paths, dry_run=False, **options):
        if not dry_run:
            paths = dict(paths)
            for path, (storage, source) in list(paths.items()):
                if not path.endswith(".js") or path.endswith(".min.js"):
                    continue
                with storage.open(source) as original:
                    code = original.read().decode()
                self.delete(path)
                self.save(path, ContentFile(rjsmin.jsmin(code, keep_bang_comments=True).encode()))
                paths[path] = (self, path)
        yield from super().post_process(paths, dry_run=dry_run, **options)
