"""Applications: from an app module to rendered objects.

The catalogue (built explicitly from definition modules), ``Application``/``Workflow``,
loading an app file and validating it into a plan, rendering components and traits into
labelled objects, and writing them as YAML/JSON.

May import: ``pyvela._core`` and ``pyvela.errors``.
"""
