"""`python -m vigie.cli`, as the `vigie` command."""

from vigie.cli import main

main()
