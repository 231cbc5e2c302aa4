from django.apps import AppConfig


class SchoolConfig(AppConfig):
    name = "tests.wagtail_project.school"
    label = "school"
    default_auto_field = "django.db.models.BigAutoField"
