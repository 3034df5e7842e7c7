"""The read-only web dashboard (``pyvela ui``): the apps on a target, their revisions, the
workflow graph with live phases, steps, objects with health and the last revision's diff.

``queries`` and ``revdiff`` read state records and live objects; ``drawing`` turns the
graph into SVG (Graphviz) or HTML; ``server`` is the Starlette app (jinja2 pages and
server-sent events); ``serve`` checks the address and runs uvicorn.

May import: ``pyvela._workflow`` and the layers below it, starlette, uvicorn, jinja2 and
graphviz. Never the CLI or ``rich``; the CLI imports it only when ``ui`` or ``graph`` runs.
"""
