"""`python -m verify ...` runs the command line."""
from verify.commands.app import main

main()
