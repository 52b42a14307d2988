"""gunicorn settings for production: `gunicorn newsroom.wsgi` reads this file.

Everything can be changed through the environment (see .env.example).
"""

import multiprocessing
import os

bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Sync workers with a few threads each: views are short, and polls mostly answer from
# the cache; WEB_CONCURRENCY sets the number of processes.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, so a slow leak never becomes an outage, but rarely: each
# new worker imports Django again, a second of a core. Behind a cache the origin sees a
# few requests a second and a worker lives for days; serving readers directly, a
# worker answers a few hundred a second, and 5,000 restarted one every few seconds.
# 100,000 is a restart every several minutes then; the jitter (a fifth) keeps workers
# from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 100_000))
max_requests_jitter = max_requests // 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    # Each worker sends the purges queued by any process (see liveblog/purge.py), and
    # makes the photo renditions any process left to make (liveblog/renditions.py).
    from liveblog import purge, renditions

    purge.start_worker()
    renditions.wake()
