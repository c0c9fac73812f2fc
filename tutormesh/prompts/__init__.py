"""Versioned prompt files (`prompts/<agent>/<name>.v<N>.md`) and the registry that serves them.

Every prompt the code sends lives here; code never inlines one. Each prompt is versioned on its
own; a run picks versions and optional override texts from its context (`render(name,
versions=..., overrides=..., **variables)`). See docs/prompts.md.
"""

from tutormesh.prompts.registry import (
    Prompt,
    PromptError,
    UnknownPrompt,
    defaults,
    diff,
    field_for,
    fill,
    get,
    load,
    names,
    overrides_of,
    render,
    resolve,
    root,
    save,
    versions,
)

__all__ = ["Prompt", "PromptError", "UnknownPrompt", "defaults", "diff", "field_for", "fill", "get", "load", "names",
           "overrides_of", "render", "resolve", "root", "save", "versions"]
