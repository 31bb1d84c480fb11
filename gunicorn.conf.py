"""gunicorn settings for Token Console; override any of them on the command line."""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 30
keepalive = 5
# The app is created in each worker after the fork, so no database connection
# or lock is ever shared between processes.
preload_app = False
accesslog = "-"
errorlog = "-"
# The path only, never the query string: nothing secret may ride in it, but a
# careless client could still put a token there.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# gunicorn's control socket is one fixed path per user: several instances on
# one machine (two apps, the benchmark) would fight over it, and nothing here
# uses it.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
