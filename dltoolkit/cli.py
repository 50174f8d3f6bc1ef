"""The ``dltk`` command: the apps, the tuning jobs, the demo and the tools.

dltk train APP [--profile P] [--set KEY=VALUE ...]   (also: dltk APP train ...)
dltk evaluate|predict|export|lr-find APP ...
dltk APP config [--profile P]
                       every setting of APP: key, type, value, meaning
dltk tune APP [--tuner T] [--max-trials N] ...
dltk demo              every app's quick run and a short tuning job
dltk models            the builders and their parameter counts
dltk models --names    just the registered names
dltk bleu REF [REF ...] < HYP
                       corpus BLEU of stdin (one segment a line) against
                       reference files, like sacreBLEU's command line
dltk tsne [INPUT] [-o PNG]
                       t-SNE of a .npy/.csv file or the digits: scatter PNG
"""

from __future__ import annotations

import argparse
import sys

from dltoolkit._quiet import import_tensorflow_quietly
from dltoolkit.embed.cli import add_tsne_parser
from dltoolkit.errors import UserError


def _models(args) -> int:
    import_tensorflow_quietly()  # only the builders need TensorFlow
    from dltoolkit.models import list_builders
    from dltoolkit.models.summary import format_parameter_table, parameter_table

    if args.names:
        print("\n".join(list_builders()))
        return 0
    print(format_parameter_table(parameter_table(args.only or None)))
    return 0


def _read_lines(path: str) -> list[str]:
    """The lines of a UTF-8 file, right-stripped (as sacreBLEU reads them)."""
    try:
        with open(path, encoding="utf-8", newline="\n") as f:
            return [line.rstrip() for line in f]
    except OSError as err:
        raise ValueError(
            f"cannot read reference file {path!r}: {err.strerror or err}"
        ) from None
    except UnicodeDecodeError as err:
        raise ValueError(f"reference file {path!r} is not UTF-8: {err}") from None


def _bleu(args) -> int:
    from dltoolkit.metrics import corpus_bleu

    references = [_read_lines(path) for path in args.refs]
    hypotheses = [line.rstrip() for line in sys.stdin]
    for path, lines in zip(args.refs, references):
        if len(lines) != len(hypotheses):
            raise ValueError(
                f"{path} has {len(lines)} lines but stdin has {len(hypotheses)}; "
                "references and hypotheses must have one segment per line."
            )
    bleu = corpus_bleu(
        hypotheses,
        references,
        tokenize=args.tokenize,
        smooth_method=args.smooth_method,
        smooth_value=args.smooth_value,
        lowercase=args.lowercase,
    )
    print(bleu)
    print(bleu.signature)
    return 0


def _add_bleu_parser(sub) -> None:
    from dltoolkit.metrics.bleu import SMOOTH_DEFAULTS
    from dltoolkit.metrics.tokenizers import TOKENIZERS

    bleu = sub.add_parser(
        "bleu",
        help="corpus BLEU of stdin against reference files (sacreBLEU-exact)",
        description="Scores hypotheses read from stdin, one segment a line, "
        "against one or more reference files with the same number of lines.",
    )
    bleu.add_argument("refs", nargs="+", metavar="REF", help="reference files")
    bleu.add_argument(
        "--tokenize", "-tok", choices=TOKENIZERS, default="13a", help="(default: 13a)"
    )
    bleu.add_argument(
        "--smooth-method",
        "-s",
        choices=list(SMOOTH_DEFAULTS),
        default="exp",
        help="(default: exp)",
    )
    bleu.add_argument(
        "--smooth-value",
        "-sv",
        type=float,
        default=None,
        help="for floor (default 0.1) and add-k (default 1)",
    )
    bleu.add_argument(
        "--lowercase", "-lc", action="store_true", help="case-insensitive BLEU"
    )
    bleu.set_defaults(run=_bleu)


# The app commands (each app's own parser answers them), and where they go.
APP_COMMANDS = ("train", "evaluate", "predict", "export", "lr-find", "config")


def _app_command(argv: list[str]) -> int | None:
    """Runs ``dltk CMD APP ...`` / ``dltk APP CMD ...``; None if not one."""
    from dltoolkit.apps import APPS

    if argv and argv[0] in APPS:
        name, rest = argv[0], argv[1:]
    elif len(argv) >= 2 and argv[0] in APP_COMMANDS and argv[1] in APPS:
        name, rest = argv[1], [argv[0], *argv[2:]]
    elif argv and argv[0] in APP_COMMANDS:
        command = argv[0]
        print(
            f"usage: dltk {command} APP ...\nerror: {command} needs an app: "
            f"{', '.join(APPS)}",
            file=sys.stderr,
        )
        return 2
    else:
        return None
    import_tensorflow_quietly()
    from dltoolkit.apps import get_app
    from dltoolkit.training.app import main as app_main

    return app_main(get_app(name), rest, prog=f"dltk {name}")


def main(argv=None) -> int:
    """Entry point of ``dltk``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    handled = _app_command(argv)
    if handled is not None:
        return handled
    if argv and argv[0] == "tune":
        from dltoolkit.tuning.__main__ import main as tune_main

        return tune_main(argv[1:], prog="dltk tune")
    if argv and argv[0] == "demo":
        from dltoolkit.apps.demo import main as demo_main

        return demo_main(argv[1:], prog="dltk demo")
    from dltoolkit.apps import APPS

    parser = argparse.ArgumentParser(
        prog="dltk",
        description=f"Apps: {', '.join(APPS)}. `dltk APP config` lists an "
        "app's settings; `dltk train APP --help` its training options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command, text in [
        ("train", "train, evaluate, export and report an app's run"),
        ("evaluate", "recompute a run's metrics.json"),
        ("predict", "run a run's export on raw inputs"),
        ("export", "rewrite a run's export"),
        ("lr-find", "learning-rate search for an app"),
        ("config", "an app's settings (also: dltk APP config)"),
    ]:
        sub.add_parser(command, help=f"{text}: dltk {command} APP ...", add_help=False)
    sub.add_parser("tune", help="keras-tuner search over an app: dltk tune APP ...")
    sub.add_parser("demo", help="every app's quick run and a short tuning job")
    models = sub.add_parser(
        "models", help="builders: canonical input, our and published parameter counts"
    )
    models.add_argument("only", nargs="*", help="builder names (default: all)")
    models.add_argument("--names", action="store_true", help="only list the names")
    models.set_defaults(run=_models)
    _add_bleu_parser(sub)
    add_tsne_parser(sub)
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):  # an app command without its app
        parser.error(f"{args.command} needs an app: {', '.join(APPS)}")
    try:
        return args.run(args)
    except (ValueError, UserError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dltoolkit")
    except PackageNotFoundError:  # a clone that is not installed
        from dltoolkit import __version__

        return __version__


if __name__ == "__main__":
    sys.exit(main())
