"""`tutormesh prompts list|show|diff|save`: browse the registry and save an edited prompt as a new version."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tutormesh import prompts


def _text(source: str) -> str:
    return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")


def cmd_list(args: argparse.Namespace) -> int:
    """Print every prompt, its versions (default last), variables and description."""
    for name in prompts.names():
        prompt = prompts.get(name)
        limit = f", replies up to {prompt.max_tokens} tokens" if prompt.max_tokens else ""
        print(f"{name:<22} v{', v'.join(map(str, prompts.versions(name)))} (default v{prompt.version}{limit})")
        print(f"{'':<22} variables: {', '.join(prompt.variables) or 'none'}; {prompt.description}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print a prompt's text (the default version unless --version)."""
    print(prompts.get(args.name, args.version).text)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Print a unified diff between two versions, or between a version and a file."""
    if args.file:
        print(prompts.diff(args.name, args.old, new_text=_text(args.file)), end="")
    else:
        print(prompts.diff(args.name, args.old, args.new), end="")
    return 0


def cmd_save(args: argparse.Namespace) -> int:
    """Save the text in FILE (e.g. copied from Studio) as the next version of a prompt."""
    saved = prompts.save(args.name, _text(args.source))
    print(f"saved {saved.name} v{saved.version}: {saved.path}")
    print(f"next: `tutormesh eval --gate` (it now evaluates v{saved.version}), then commit the file")
    return 0


def cmd_prompts(args: argparse.Namespace) -> int:
    """Run the chosen sub-command; registry errors become a message, not a traceback."""
    try:
        return int(args.prompt_func(args))
    except (prompts.PromptError, prompts.UnknownPrompt, OSError) as exc:
        print(f"tutormesh prompts: {exc}", file=sys.stderr)
        return 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `prompts` sub-command."""
    parser = subparsers.add_parser("prompts", help="list, show, diff and save versioned prompts")
    sub = parser.add_subparsers(dest="prompts_command", required=True)
    sub.add_parser("list", help="every prompt with its versions and variables").set_defaults(prompt_func=cmd_list)
    show = sub.add_parser("show", help="print a prompt's text")
    show.add_argument("name", help="agent/name, e.g. explainer/system")
    show.add_argument("--version", help="a version (default: the newest)")
    show.set_defaults(prompt_func=cmd_show)
    diff = sub.add_parser("diff", help="diff two versions, or a version and a file")
    diff.add_argument("name")
    diff.add_argument("old", nargs="?", default="1", help="the older version (default 1)")
    diff.add_argument("new", nargs="?", help="the newer version (default: the newest)")
    diff.add_argument("--file", help="compare with this file's text instead (- for stdin)")
    diff.set_defaults(prompt_func=cmd_diff)
    save = sub.add_parser("save", help="save edited text as the next version")
    save.add_argument("name")
    save.add_argument("--from", dest="source", required=True, metavar="FILE", help="the new text (- for stdin)")
    save.set_defaults(prompt_func=cmd_save)
    parser.set_defaults(func=cmd_prompts)
