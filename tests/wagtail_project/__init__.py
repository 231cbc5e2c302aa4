"""A minimal Wagtail site used to test wagtail_photoguard (pytest-django's settings)."""
