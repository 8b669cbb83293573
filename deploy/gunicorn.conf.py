"""gunicorn for one Xueji node (`make serve`, deploy/cluster.py): the environment configures it.

XUEJI_BIND (127.0.0.1:8000), XUEJI_WEB_WORKERS (2 × cores + 1, at most 9), XUEJI_WEB_THREADS (4):
threads let a worker wait on PostgreSQL or the hub for one request while serving another; the
database connections are kept (XUEJI_DB_CONN_MAX_AGE) so a request opens none. Static files are
served by WhiteNoise (XUEJI_SERVE_STATIC=1, set here) after `xueji collectstatic`.
"""

import multiprocessing
import os

os.environ.setdefault("XUEJI_SERVE_STATIC", "1")
os.environ.setdefault("XUEJI_DB_CONN_MAX_AGE", "60")

bind = os.environ.get("XUEJI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("XUEJI_WEB_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.environ.get("XUEJI_WEB_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("XUEJI_WEB_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
# A worker is replaced after this many requests (a slow leak cannot grow for ever).
max_requests = 5000
max_requests_jitter = 500
accesslog = os.environ.get("XUEJI_ACCESS_LOG", "-")
errorlog = "-"
proc_name = f"xueji-{os.environ.get('XUEJI_NODE', 'single') or 'single'}"
