"""What every API handler shares; each family answers errors in its spec's envelope,
looked up in the catalogue.

- ``responses``: ``install_envelope(app, family)``, the one way a handler sets up its
  errors, and ``json_response``.
- ``envelopes``: each family's error envelope (also the authorizer's refusals).
- ``roles``: which role may call which route, the one table; ``access``:
  ``refuse_outside_role(event)``, the 403 each handler answers before ``app.resolve``.
- ``errors``: what an exception stands for (a ``Problem`` and a safe detail).
- ``json_body``: the one reader of JSON bodies; ``requests``: forms and multipart files.
- ``exocr``: spec 003's form endpoint (its form in, its answer out).
"""
