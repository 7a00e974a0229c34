"""`python -m simulator` runs the dcsim command line."""

from simulator.cli import main

main()
