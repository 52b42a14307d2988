"""Settings of the gunicorn a `benchmark --gunicorn` run starts (benchmark_stack.py): the
project's own, from the same environment, with the benchmark's URL table (a bare view
beside the product's) and the run's throwaway database."""

import os

from newsroom.settings import *  # noqa: F403

ROOT_URLCONF = "liveblog.management.benchmark_urls"
DATABASES["default"]["NAME"] = os.environ["BENCHMARK_DATABASE_NAME"]  # noqa: F405
