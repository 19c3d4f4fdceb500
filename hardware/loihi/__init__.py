"""Everything that touches nengo-loihi: the emulator build, its faster drop-in,
placement and host traffic, activity counters, and chip resources.

`compat` is the single importer of ``nengo_loihi``.
"""
