from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    """Countries and lookup tables whose numeric ids the customer API exchanges (`idGender`, ...)."""

    name = "compliance.reference"
    label = "reference"
    verbose_name = "Reference data"
