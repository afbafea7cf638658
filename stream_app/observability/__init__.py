"""What the engine reports about itself beyond per-event counters: a census of the accounts a
worker owns and its consumer lag, refreshed on a timer into the gauges of ``metrics``.

``census`` is pure; ``consumer_lag`` and ``gauges`` adapt Faust. Import the modules directly
(``metrics`` imports ``census``, so this package re-exports nothing to stay cycle-free).
"""
