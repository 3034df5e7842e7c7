"""The command line: argument parsing, commands, live progress (rich) and diffs.

``main`` parses arguments and must stay cheap to import (``pyvela --help`` loads neither
attrs, rich nor the Kubernetes client); ``commands`` and ``run`` carry out the commands.

May import every layer below it.
"""
