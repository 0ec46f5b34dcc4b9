"""The project package. It imports nothing on its own, so that `exclusions` (the pipelines' client)
installs and runs without Django or Celery; the Celery app is created when Django starts (apps.py) and found
by `celery -A governance` as the `governance.celery` module."""


def __getattr__(name: str):
    if name == "celery_app":
        # Lazy: importing the Celery app loads Django's settings, which the client must run without.
        from governance.celery import app

        return app
    raise AttributeError(f"module 'governance' has no attribute {name!r}")
