import sys

from freeprob.app.cli import main

sys.exit(main())
