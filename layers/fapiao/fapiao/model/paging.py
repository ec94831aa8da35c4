"""How many entries a page of the review queue holds: the model's bounds, which the
review API's ``limit`` parameter declares too. Apart from ``fapiao.model.review`` so
that declaring the route does not load the queue's models (issue 13: the cold start)."""

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
