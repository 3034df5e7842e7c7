"""Workflow: running an app's steps against a cluster and remembering what happened.

The driver (step coroutines over actions, journal replay), the executor (performs actions),
the engine (schedules the step graph), the state record and the app's lock, the lifecycle
(deploy, resume, rollback, delete, prune), the control channel, events and resource policies.

May import: ``pyvela._app``, ``pyvela._backends``, ``pyvela._configcentre``, ``pyvela._core``
and ``pyvela.errors``. Never the CLI or ``rich``.
"""
