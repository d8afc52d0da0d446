"""Shell completion for ``git ml <TAB>``: a bash ``_git_ml`` function built from the CLI itself.

Git's bash completion (and its zsh wrapper, which reuses the bash functions) completes ``git foo``
by calling ``_git_foo``. The function printed by ``git ml completion bash`` is static (no Python
runs on TAB) and generated from the typer app, so it always lists the commands and options the
CLI has; option values complete from their choices, remotes or revisions, anything else falls
back to file names.
"""

from __future__ import annotations

import enum
import typing
from dataclasses import dataclass, field


@dataclass
class OptionSpec:
    names: list[str]  # e.g. ["--expert", "-e"]
    takes_value: bool
    choices: list[str] = field(default_factory=list)
    help: str = ""


@dataclass
class CommandSpec:
    path: list[str]  # [] for the top level, ["session", "ingest"] for a subcommand
    help: str = ""
    options: list[OptionSpec] = field(default_factory=list)
    arguments: list[tuple[str, list[str]]] = field(default_factory=list)  # (name, choices)
    subcommands: list[str] = field(default_factory=list)


def _choices(annotation) -> list[str]:
    for typ in (annotation, *typing.get_args(annotation)):
        if isinstance(typ, type) and issubclass(typ, enum.Enum):
            return [str(m.value) for m in typ]
    return []


def cli_spec(command, path: list[str] | None = None) -> list[CommandSpec]:
    """Every visible command of a typer/click command tree with its options, depth first."""
    path = path or []
    spec = CommandSpec(path=path, help=((command.help or "").strip().splitlines() or [""])[0])
    for p in command.params:
        if getattr(p, "hidden", False):
            continue
        desc = getattr(p, "type_descriptor", None)
        if p.param_type_name == "argument":
            spec.arguments.append((p.name, _choices(getattr(desc, "annotation", None))))
            continue
        spec.options.append(OptionSpec(
            names=[*p.opts, *p.secondary_opts],
            takes_value=not getattr(p, "is_flag", False),
            choices=_choices(getattr(desc, "annotation", None)),
            help=p.help or "",
        ))
    spec.options.append(OptionSpec(names=["--help", "-h"], takes_value=False, help="Show help and exit."))
    subs = {n: c for n, c in (getattr(command, "commands", None) or {}).items() if not c.hidden}
    spec.subcommands = list(subs)
    out = [spec]
    for name, sub in subs.items():
        out += cli_spec(sub, path + [name])
    return out


def _words(items) -> str:
    return " ".join(items)


def bash_script(specs: list[CommandSpec]) -> str:
    """The ``_git_ml`` bash function for git's completion (``eval "$(git ml completion bash)"``)."""
    by_path = {tuple(s.path): s for s in specs}
    groups = [s for s in specs if s.subcommands]
    lines = [
        "# bash completion for `git ml` (also used by git's zsh completion).",
        "# Load it after git's own completion, e.g. in ~/.bashrc:",
        '#   eval "$(git ml completion bash)"',
        "_git_ml ()",
        "{",
        '\tlocal cmd="" sub=""',
    ]
    top = by_path[()]
    lines.append(f'\tcmd="$(__git_find_on_cmdline "{_words(top.subcommands)}")"')
    for g in groups:
        if g.path:
            lines.append(f'\tif [ "$cmd" = "{g.path[0]}" ]; then')
            lines.append(f'\t\tsub="$(__git_find_on_cmdline "{_words(g.subcommands)}")"')
            lines.append('\t\t[ -n "$sub" ] && cmd="$cmd $sub"')
            lines.append("\tfi")
    lines.append('\tcase "$cmd,$prev" in')
    for s in specs:
        key = " ".join(s.path)
        for opt in s.options:
            if not opt.takes_value:
                continue
            pattern = "|".join(f'"{key},{n}"' for n in opt.names)
            if opt.choices:
                action = f'__gitcomp "{_words(opt.choices)}"; return'
            elif "--remote" in opt.names:
                action = '__gitcomp_nl "$(__git_remotes)"; return'
            elif "--since" in opt.names:
                action = "__git_complete_refs; return"
            elif "--range" in opt.names:
                action = "__git_complete_revlist; return"
            else:
                action = "return"  # a free value: files or nothing
            lines.append(f"\t{pattern}) {action} ;;")
    lines.append("\tesac")
    lines.append('\tcase "$cmd" in')
    for s in specs:
        key = " ".join(s.path)
        opts = [n for o in s.options for n in o.names if n.startswith("--")]
        words = s.subcommands or [c for _, choices in s.arguments[:1] for c in choices]
        lines.append(f'\t"{key}")')
        if words:
            lines.append(f'\t\tcase "$cur" in -*) __gitcomp "{_words(opts)}" ;; '
                         f'*) __gitcomp "{_words(words)}" ;; esac ;;')
        else:
            lines.append(f'\t\tcase "$cur" in -*) __gitcomp "{_words(opts)}" ;; esac ;;')
    lines.append("\tesac")
    lines.append("}")
    return "\n".join(lines) + "\n"
