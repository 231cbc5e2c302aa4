"""photoguard_core: the platform-neutral heart of photoguard."""

__version__ = "0.1.0"
