# gunicorn reads ./gunicorn.conf.py by default (the image's CMD and compose's web run from /app).
# Its access and error logs mask private status links and tokens, like the portal's own logs.
logger_class = "governance.log_masking.GunicornLogger"
