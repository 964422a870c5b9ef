"""The one path every aggregated-level (L2) venue message takes to become normalized events.

:mod:`.messages` is the message model (snapshot / diff, levels as exact decimal strings, update
ids, checksum) and its assembly into events; :mod:`._sequencer` syncs a stream to its snapshots,
drops duplicates, reorders within a bounded buffer and locates real gaps.
"""
