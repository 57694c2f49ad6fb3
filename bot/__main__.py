"""`python -m bot` is the same as the `actionbot` command."""

from bot.cli import main

raise SystemExit(main())
