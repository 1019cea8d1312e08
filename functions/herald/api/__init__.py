"""The HTTP edge: one resolver with its request bounds, authentication and error table, and one route module per resource, each mapping HTTP onto `herald.logic`."""
