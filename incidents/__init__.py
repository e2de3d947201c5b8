"""Incidents: every alarm and every missed check becomes an item someone must handle.

``kinds`` (what an incident can be), ``states`` (the pure state machine), ``models``
(the tables), ``store`` (opening, counting, transitions, queries), ``rules`` (who may
act), ``intake`` (alarms off the ingest's threads, in batches), ``watch`` (deadlines,
missed check-in slots, out-of-area checks), ``cli`` (``watchwall incidents``).
"""
