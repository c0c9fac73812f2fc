"""The prompt registry: versioned prompt files, their declared variables, and rendering for a run.

A prompt is `<root>/<agent>/<name>.v<N>.md`, versioned on its own. Each file starts with YAML front
matter that declares what the code passes in, then the template:

    ---
    description: What the prompt is for (shown in Studio and `tutormesh prompts list`).
    variables:
      context: the retrieved curriculum passages
    max_tokens: 192          # optional: the reply's token limit for calls made with this prompt
    ---
    Use only the curriculum material below.
    {context}

A placeholder is `{name}` (lower case); any other brace stays literal. Loading fails when the text
uses a placeholder its front matter does not declare; rendering fails when a declared variable is
not given. Files are re-read when they change on disk (the cache is keyed on the file's mtime), so
`langgraph dev` and a long-running server pick up an edit without a restart.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tutormesh.core.errors import Invalid, NotFound
from tutormesh.core.settings import get_settings

PACKAGED_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"[a-z0-9_]+/[a-z0-9_]+")
_FILE = re.compile(r"(?P<base>[a-z0-9_]+)\.v(?P<version>[1-9][0-9]*)\.md")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class PromptError(Invalid, ValueError):
    """A prompt file, an override or a render call does not fit the prompt's declared variables.

    Also a `ValueError`, so LangGraph's API (Studio) shows its message instead of "internal error".
    """

    code = "invalid_prompt"


class UnknownPrompt(NotFound, ValueError):
    """No such prompt, or no such version of it (a run context named one that does not exist); a `ValueError` too."""

    code, status = "unknown_prompt", 422


@dataclass(frozen=True)
class Prompt:
    """One version of one prompt: its template and what it declares."""

    name: str
    version: int
    text: str
    variables: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    max_tokens: int | None = None
    path: Path | None = None

    @property
    def placeholders(self) -> set[str]:
        """The `{name}` placeholders the template uses."""
        return set(_PLACEHOLDER.findall(self.text))

    def render(self, **variables: str) -> str:
        """Fill the template; every declared variable must be given (a version may use fewer than the code has)."""
        missing = sorted(set(self.variables) - set(variables))
        if missing:
            raise PromptError(f"prompt {self.name} v{self.version} declares {missing}, which the code does not pass "
                              f"(it passes {sorted(variables) or 'nothing'})")
        return fill(self.text, **{k: v for k, v in variables.items() if k in self.variables})

    def with_text(self, text: str) -> Prompt:
        """Return this prompt with another template (an override), checked against its variables."""
        return _checked(Prompt(self.name, self.version, text.strip(), self.variables, self.description,
                               self.max_tokens, None), source="override")


def root() -> Path:
    """Return the directory prompts are read from (`TUTORMESH_PROMPTS_DIR`, else the packaged one)."""
    return get_settings().prompts_dir or PACKAGED_DIR


def names() -> list[str]:
    """Return every prompt name ("agent/name") that has at least one version, sorted."""
    found = {f"{path.parent.name}/{m.group('base')}" for path in root().glob("*/*.md")
             if (m := _FILE.fullmatch(path.name))}
    return sorted(found)


def versions(name: str) -> list[int]:
    """Return the versions of a prompt that exist, oldest first."""
    agent, base = _split(name)
    found = (_FILE.fullmatch(p.name) for p in (root() / agent).glob(f"{base}.v*.md"))
    return sorted(int(m.group("version")) for m in found if m and m.group("base") == base)


def get(name: str, version: int | str | None = None) -> Prompt:
    """Return prompt `name` at `version` ("2", "v2", 2); None or "" is the newest (the default)."""
    _split(name)
    have = versions(name)
    if not have:
        raise UnknownPrompt(f"no prompt named {name!r} (prompts: {', '.join(names())})")
    wanted = _version_number(name, version) if version not in (None, "") else have[-1]
    if wanted not in have:
        raise UnknownPrompt(f"prompt {name} has no version {version!r} (versions: {', '.join(map(str, have))})")
    path = root() / f"{name}.v{wanted}.md"
    stat = path.stat()
    return _read(path, name, wanted, stat.st_mtime_ns, stat.st_size)


def load(name: str, version: int | str | None = None) -> str:
    """Return the template text of prompt `name` at `version` (the newest when None)."""
    return get(name, version).text


def resolve(name: str, versions: Mapping[str, str | int] | None = None,
            overrides: Mapping[str, str] | None = None) -> Prompt:
    """Return the prompt a run uses: its pinned version (else the default), or its override text."""
    prompt = get(name, (versions or {}).get(name))
    override = (overrides or {}).get(name, "").strip()
    # Studio pre-fills each prompt's field with the default version's text: that is not an edit.
    if override and override != prompt.text and override != get(name).text:
        return prompt.with_text(override)
    return prompt


def render(name: str, *, versions: Mapping[str, str | int] | None = None,
           overrides: Mapping[str, str] | None = None, **variables: str) -> str:
    """Render prompt `name` for a run: version and override from the run context, then the variables."""
    return resolve(name, versions, overrides).render(**variables)


def field_for(name: str) -> Any:
    """A run-context field showing prompt `name`'s current text in Studio (an edit there overrides it).

    The react-agent pattern: a `str` field whose default is the text and whose description says
    what the prompt is for, so Studio's form shows it (a dict field's default would not show).
    """
    prompt = get(name)
    variables = ", ".join("{" + v + "}" for v in prompt.variables) or "none"
    return field(default=prompt.text, metadata={"prompt": name, "description": (
        f"Prompt {name} (default v{prompt.version}): {prompt.description} Placeholders: {variables}. Edit to try a "
        f"change in this run; save it with `tutormesh prompts save {name} --from FILE`.")})


def overrides_of(context: Any) -> dict[str, str]:
    """Collect a run context's prompt texts: its `field_for` fields, then its `prompt_overrides` (which win)."""
    texts = {f.metadata["prompt"]: getattr(context, f.name) for f in dataclasses.fields(context)
             if "prompt" in f.metadata} if dataclasses.is_dataclass(context) else {}
    return {**texts, **dict(getattr(context, "prompt_overrides", None) or {})}


def defaults() -> dict[str, str]:
    """Return the text of every prompt's default version (what Studio shows before an edit)."""
    return {name: load(name) for name in names()}


def save(name: str, text: str) -> Prompt:
    """Write `text` as the next version of `name`, keeping the newest version's front matter.

    `text` may carry its own front matter (then it replaces the old one). The new file is checked
    before it is written, so a broken prompt never lands on disk.
    """
    have = versions(name)
    if not have:
        raise UnknownPrompt(f"no prompt named {name!r}: create {name}.v1.md by hand first")
    current = get(name)
    current_header: dict[str, object] = {"description": current.description, "variables": dict(current.variables)}
    if current.max_tokens is not None:
        current_header["max_tokens"] = current.max_tokens
    header, body = _front_matter(text)
    header = header or current_header
    number = have[-1] + 1
    candidate = _parse(name, number, header, body, source="the new text")
    if candidate.text == current.text and header == current_header:
        raise PromptError(f"the text is the same as {name} v{current.version}; nothing saved")
    path = root() / f"{name}.v{number}.md"
    path.write_text(f"---\n{yaml.safe_dump(header, sort_keys=False, allow_unicode=True)}---\n{body.strip()}\n",
                    encoding="utf-8")
    return get(name, number)


def diff(name: str, old: int | str | None, new: int | str | None = None, *, new_text: str | None = None) -> str:
    """Return a unified diff between two versions of a prompt (or a version and some text)."""
    before = get(name, old)
    after_text = new_text if new_text is not None else get(name, new).text
    after_label = "edited text" if new_text is not None else f"{name} v{get(name, new).version}"
    lines = difflib.unified_diff(before.text.splitlines(keepends=True), _front_matter(after_text)[1].strip()
                                 .splitlines(keepends=True), f"{name} v{before.version}", after_label)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def fill(template: str, **values: str) -> str:
    """Substitute `{name}` placeholders without `str.format`, so braces in values or text stay literal."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _split(name: str) -> tuple[str, str]:
    if not _NAME.fullmatch(name):
        raise UnknownPrompt(f"a prompt name looks like 'agent/name', got {name!r}")
    agent, _, base = name.partition("/")
    return agent, base


def _version_number(name: str, version: int | str) -> int:
    text = str(version).strip().lower().removeprefix("v")
    if not text.isdigit():
        raise UnknownPrompt(f"prompt {name}: a version is a number such as 2 or 'v2', got {version!r}")
    return int(text)


@lru_cache(maxsize=256)
def _read(path: Path, name: str, version: int, mtime_ns: int, size: int) -> Prompt:
    """Parse a prompt file; keyed on mtime and size, so an edited file is read again."""
    header, body = _front_matter(path.read_text(encoding="utf-8"))
    prompt = _parse(name, version, header, body, source=str(path))
    return Prompt(prompt.name, prompt.version, prompt.text, prompt.variables, prompt.description,
                  prompt.max_tokens, path)


def _front_matter(text: str) -> tuple[dict[str, object], str]:
    if not text.startswith("---\n"):
        return {}, text
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise PromptError("front matter opened with '---' is never closed")
    try:
        header = yaml.safe_load(head) or {}
    except yaml.YAMLError as exc:
        raise PromptError(f"front matter is not valid YAML: {exc}") from None
    if not isinstance(header, dict):
        raise PromptError("front matter must be a mapping (description, variables, max_tokens)")
    return header, body


def _parse(name: str, version: int, header: Mapping[str, object], body: str, *, source: str) -> Prompt:
    variables = header.get("variables") or {}
    if isinstance(variables, list):
        variables = {str(v): "" for v in variables}
    if not isinstance(variables, dict):
        raise PromptError(f"{source}: 'variables' must map each variable to a description")
    max_tokens = header.get("max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens <= 0):
        raise PromptError(f"{source}: 'max_tokens' must be a positive integer, got {max_tokens!r}")
    prompt = Prompt(name, version, body.strip(), {str(k): str(v or "") for k, v in variables.items()},
                    str(header.get("description", "")), max_tokens)
    return _checked(prompt, source=source)


def _checked(prompt: Prompt, *, source: str) -> Prompt:
    undeclared = sorted(prompt.placeholders - set(prompt.variables))
    if undeclared:
        raise PromptError(f"{source}: prompt {prompt.name} v{prompt.version} uses "
                          f"{', '.join('{' + u + '}' for u in undeclared)}, not declared in its variables "
                          f"({', '.join(prompt.variables) or 'none'})")
    if not prompt.text:
        raise PromptError(f"{source}: prompt {prompt.name} v{prompt.version} is empty")
    return prompt
