"""Command line: ``python -m zmixlib {book,train,sweep,bench,data,ledger} ...``.

Each subcommand is a ``main(argv)`` function (``module:function``, default ``main``); ``--help`` after the subcommand
shows its options.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "book": ("zmixlib.site.book", "execute the notebooks with papermill under a profile and build the HTML book"),
    "train": ("zmixlib.cli:train_main", "train one run (dataset x method x seed) and write its record"),
    "sweep": ("zmixlib.cli:sweep_main", "run a matrix of runs, skipping finished ones"),
    "bench": ("zmixlib.cli:bench_main", "time the mixing methods side by side, and training throughput"),
    "data": ("zmixlib.data", "download datasets where possible, or print how to obtain them"),
    "ledger": ("zmixlib.cli:ledger_main", "the claims ledger; --self-check proves its rules on the papers' numbers"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m zmixlib COMMAND [options]\n\ncommands:")
        for name, (_, text) in COMMANDS.items():
            print(f"  {name:<6} {text}")
        from zmixlib.core.util import ROOT, ROOT_RULE

        print(f"\nfiles: {ROOT_RULE}; here: {ROOT}")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r}; choose from {list(COMMANDS)}", file=sys.stderr)
        return 2
    module_name, _, function = COMMANDS[name][0].partition(":")
    return int(getattr(importlib.import_module(module_name), function or "main")(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
