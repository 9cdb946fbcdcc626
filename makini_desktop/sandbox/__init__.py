"""The built-in Makini stand-in: a data generator and a real HTTP server on loopback.

No Qt here. :mod:`.data` generates a company's workplace records deterministically,
:mod:`.server` serves them over the contract's paths with auth, paging, filters, rate limits
and injectable faults (:mod:`.faults`), and :mod:`.cli` is the ``makini-desktop sandbox``
command. Import the submodules directly; this package imports nothing so that importing
``makini_desktop.sandbox.data`` does not start pulling in the HTTP server.
"""
