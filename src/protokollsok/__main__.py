"""``python -m protokollsok`` runs the command line."""

from protokollsok.cli import main

main()
