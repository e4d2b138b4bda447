"""fraud-platform: a production-shaped, real-time fraud decision platform on Kafka."""

__all__: list[str] = []
