// `sidestash completion bash|zsh`: shell completion scripts generated from the command table
// (command-help.ts), so that they name exactly the commands, subcommands, kinds and options
// the CLI takes. bash: `source <(sidestash completion bash)`; zsh: a native #compdef function.
import { ErrorCodes, SidestashError } from '../common/errors.ts';
import { COMMANDS, KINDS } from './command-help.ts';
import { REPO_COMMON_OPTIONS, REPO_VERBS } from './repo-help.ts';

const API_OPTIONS = ['--url', '--token', '-n', '--namespace', '--log-format', '--help'];

/** Completion words after `sidestash COMMAND` (position 2) and after that (options). */
function wordsFor(name: string): { first: string[]; later: string[] } {
  const c = COMMANDS[name]!;
  const options = [...(c.options ?? []), ...(c.api ? API_OPTIONS : ['--help'])];
  if (name === 'get') return { first: KINDS, later: options };
  // describe and delete refuse agents (describe-command.ts, resource-commands.ts).
  if (name === 'describe' || name === 'delete') return { first: KINDS.filter((k) => k !== 'agents'), later: options };
  if (name === 'cancel' || name === 'wait') return { first: ['backupsession', 'restoresession'], later: options };
  if (name === 'completion') return { first: ['bash', 'zsh'], later: [] };
  if (name === 'help') return { first: Object.keys(COMMANDS), later: [] };
  if (name === 'repo') return { first: Object.keys(REPO_VERBS), later: [] };
  if (c.sub) return { first: Object.keys(c.sub), later: options };
  return { first: options, later: options };
}

/** A word list safe inside single quotes in both shells (the names are [a-z0-9.-]). */
function list(words: string[]): string {
  for (const w of words) if (!/^[-a-z0-9.]+$/i.test(w)) throw new Error(`completion word ${JSON.stringify(w)}`);
  return words.join(' ');
}

function bash(): string {
  const cases = Object.keys(COMMANDS).map((name) => {
    const w = wordsFor(name);
    return `    ${name}) if [[ $COMP_CWORD -eq 2 ]]; then words='${list(w.first)}'; else words='${list(w.later)}'; fi ;;`;
  });
  const repoCases = Object.entries(REPO_VERBS).map(([verb, v]) => `        ${verb}) words='${list([...v.options, ...REPO_COMMON_OPTIONS, '--help'])}' ;;`);
  return `# bash completion for sidestash (source <(sidestash completion bash))
_sidestash() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words=''
  if [[ $COMP_CWORD -eq 1 ]]; then
    words='${list(Object.keys(COMMANDS))} --help --version'
  else
    case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
    esac
    if [[ "\${COMP_WORDS[1]}" == repo && $COMP_CWORD -gt 2 ]]; then
      case "\${COMP_WORDS[2]}" in
${repoCases.join('\n')}
      esac
    fi
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _sidestash sidestash
`;
}

function zsh(): string {
  const described = Object.keys(COMMANDS).map((name) => `    '${name}:${COMMANDS[name]!.summary.replace(/[':\\]/g, ' ')}'`);
  const cases = Object.keys(COMMANDS).map((name) => {
    const w = wordsFor(name);
    return `    ${name}) if (( CURRENT == 3 )); then compadd -- ${list(w.first)}; else compadd -- ${list(w.later)}; fi ;;`;
  });
  const repoCases = Object.entries(REPO_VERBS).map(([verb, v]) => `        ${verb}) compadd -- ${list([...v.options, ...REPO_COMMON_OPTIONS, '--help'])} ;;`);
  return `#compdef sidestash
# zsh completion for sidestash: sidestash completion zsh > "\${fpath[1]}/_sidestash"
# (or, in ~/.zshrc after compinit: source <(sidestash completion zsh))
_sidestash() {
  local -a commands
  commands=(
${described.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'sidestash command' commands
    return
  fi
  if [[ \${words[2]} == repo ]] && (( CURRENT > 3 )); then
    case \${words[3]} in
${repoCases.join('\n')}
    esac
    return
  fi
  case \${words[2]} in
${cases.join('\n')}
  esac
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _sidestash "$@"
else
  compdef _sidestash sidestash
fi
`;
}

export function completionScript(shell: string | undefined): string {
  if (shell === 'bash') return bash().trimEnd();
  if (shell === 'zsh') return zsh().trimEnd();
  throw new SidestashError(ErrorCodes.INVALID_ARGUMENT, `completion needs a shell: bash or zsh${shell === undefined ? '' : `, not ${JSON.stringify(shell)}`}\nrun "sidestash completion --help" for usage`);
}
