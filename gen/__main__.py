import sys

from pingen.cli import main

sys.exit(main())
