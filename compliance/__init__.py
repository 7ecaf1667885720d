"""The project package and the platform every app builds on."""

from compliance.celery import app as celery_app

__all__ = ("celery_app",)
