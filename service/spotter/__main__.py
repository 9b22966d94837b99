"""`python -m spotter` runs the CLI."""

from spotter.cli import main

raise SystemExit(main())
