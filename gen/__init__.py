"""pingen: TLS public-key pins for mobile apps, from one pins.yaml."""

__version__ = "0.1.0"
