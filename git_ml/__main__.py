import sys

from git_ml.entry import main

sys.exit(main())
