"""healthstream: a real-time customer-health engine on Kafka, Faust and Redis."""

__version__ = "0.1.0"
__all__ = ["__version__"]
