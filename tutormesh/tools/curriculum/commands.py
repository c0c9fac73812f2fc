"""`tutormesh curriculum`: check the translations, or start a new language from the English."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from tutormesh.tools.curriculum import translations
from tutormesh.tools.curriculum.loader import CURRICULUM_DIR


def cmd_check_translations(args: argparse.Namespace) -> int:
    """Print every translation problem; exit 1 if there is one."""
    languages = tuple(args.language) if args.language else translations.LANGUAGES
    for language in languages:
        translations.check_language(language)
    problems = translations.check_directory(CURRICULUM_DIR, languages)
    for problem in problems:
        print(problem)
    checked = ", ".join(lang for lang in languages if lang != translations.SOURCE_LANGUAGE)
    print(f"curriculum translations ({checked}): " + (f"{len(problems)} problem(s)" if problems else "complete"))
    return 1 if problems else 0


def cmd_skeleton(args: argparse.Namespace) -> int:
    """Print the English strings of one subject laid out as a translation file."""
    path = CURRICULUM_DIR / f"{args.subject}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CURRICULUM_DIR.glob("*.yaml")))
        raise LookupError(f"unknown subject {args.subject!r}; known: {known}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    yaml.dump(translations.skeleton(raw), sys.stdout, Dumper=_LiteralDumper, allow_unicode=True,
              sort_keys=False, width=1000)
    return 0


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


# Multi-line text (explanations, pictures) is written as ``|`` blocks a translator can edit.
_LiteralDumper: Any = type("_LiteralDumper", (yaml.SafeDumper,), {})
_LiteralDumper.add_representer(str, _str)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `curriculum` sub-command and its verbs."""
    parser = subparsers.add_parser("curriculum", help="curriculum data: translation checks")
    verbs = parser.add_subparsers(dest="verb", required=True)
    check = verbs.add_parser("check-translations", help="every English string translated, slots and numbers kept")
    check.add_argument("--language", action="append", metavar="LANG", help="check only this language (repeatable)")
    check.set_defaults(func=cmd_check_translations)
    skeleton = verbs.add_parser("skeleton", help="print a subject's English strings as a translation file")
    skeleton.add_argument("subject", help="math, science or engineering")
    skeleton.set_defaults(func=cmd_skeleton)
