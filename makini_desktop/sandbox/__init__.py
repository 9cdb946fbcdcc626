"""The built-in Makini stand-in: a data generator and a real HTTP server on loopback.

No Qt here. The data: :mod:`.data` (``generate()``, the front door) runs the generator's
stages :mod:`.gen_places`, :mod:`.gen_assets` and :mod:`.gen_activity` (shared state in
:mod:`.gen_common`, name lists in :mod:`.names`) into the live records of :mod:`.records`.
The server: :mod:`.server` (``SandboxServer``: lifecycle, controls, the gate of every API
request) with :mod:`.http` (the wire), :mod:`.routes` (the contract's paths), :mod:`.admin`
(the ``/__sandbox__/`` test controls), :mod:`.changes` (runtime edits), :mod:`.query`
(paging, filters), :mod:`.ratelimit` and :mod:`.faults`. :mod:`.cli` is the
``makini-desktop sandbox`` command. Import the submodules directly; this package imports
nothing so that importing ``makini_desktop.sandbox.data`` does not start pulling in the HTTP
server.
"""
