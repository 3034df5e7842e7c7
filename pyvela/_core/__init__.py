"""Core: what a definition is made of, with no I/O.

Objects and references, parameter classes and their typeguard checks, the pure decorators
(``component``, ``trait``, ``step``, ``policy``) and the definition objects they return, the
actions a step may await, merge-by-key patches, templates, the YAML emitter and the graph
helpers.

May import: ``pyvela.errors`` and third-party libraries (attrs, typeguard, jinja2, yaml).
Never another ``pyvela._*`` layer.
"""
