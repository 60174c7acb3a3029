"""`python -m mipv6scope` runs the CLI."""

from mipv6scope.cli.main import main

main()
