"""``python -m pyvela``."""

from pyvela._cli.main import main

raise SystemExit(main())
