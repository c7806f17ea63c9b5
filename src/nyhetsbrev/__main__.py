"""Entry point for `python -m nyhetsbrev`."""

from nyhetsbrev.cli import main

main()
