"""The ``dltk`` command: library-level tools.

dltk models            the builders and their parameter counts
dltk models --names    just the registered names
"""

from __future__ import annotations

import argparse
import sys

from dltoolkit._quiet import import_tensorflow_quietly


def _models(args) -> int:
    from dltoolkit.models import list_builders
    from dltoolkit.models.summary import format_parameter_table, parameter_table

    if args.names:
        print("\n".join(list_builders()))
        return 0
    print(format_parameter_table(parameter_table(args.only or None)))
    return 0


def main(argv=None) -> int:
    """Entry point of ``dltk``."""
    import_tensorflow_quietly()
    parser = argparse.ArgumentParser(prog="dltk")
    sub = parser.add_subparsers(dest="command", required=True)
    models = sub.add_parser(
        "models", help="builders: canonical input, our and published parameter counts"
    )
    models.add_argument("only", nargs="*", help="builder names (default: all)")
    models.add_argument("--names", action="store_true", help="only list the names")
    models.set_defaults(run=_models)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
