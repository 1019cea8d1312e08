"""Logic: the use cases (accept, route, deliver, settle, derive events), free of AWS plumbing, working through `Services`."""
