"""Sub-commands of the ``apigate`` CLI: each module has ``HELP``, ``configure(parser)`` and ``run(args) -> int``."""
