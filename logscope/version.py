"""The package version, in a module of its own: reporters and the pack cache read it without
importing the package root (which names the API, and so every layer above them)."""

__version__ = "0.1.0"
