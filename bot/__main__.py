"""`python -m bot` is the same as the `actionbot` command."""

from wiring.cli import main

raise SystemExit(main())
