"""Side-by-side benchmark of the engine against its Python peers (issue 6); see bench/README.md.

``python -m bench run`` (``make bench``) measures, in one run against the local broker: the
engine worker, a raw aiokafka consumer, a naive Faust agent and a Quix Streams application on
the same preloaded events, then end-to-end latency, memory and a two-worker scale-out.
Nothing in here is imported by ``stream_app``.
"""
