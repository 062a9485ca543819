"""`python -m netscore_fast.cli ...`: the netscore-fast command."""
import sys

from . import main

sys.exit(main())
