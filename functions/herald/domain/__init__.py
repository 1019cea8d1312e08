"""Domain: pure models, rules and vocabulary (events, catalog, statuses, retry policy, formats, ids, time) with no I/O."""
