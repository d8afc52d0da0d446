"""git-ml: learns from a repository's own history and agent sessions, and tells people and agents
which files a task will touch, which tests a change needs, where an error comes from, which docs
go stale and what a refactor drags along.

The public library API lives in :mod:`git_ml.api`; everything else is internal.
"""

__version__ = "0.1.0"
