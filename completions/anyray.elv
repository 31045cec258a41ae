
use builtin;
use str;

set edit:completion:arg-completer[anyray] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'anyray'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'anyray'= {
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand connect 'Point tools at the gateway by editing their config files (reversible)'
            cand disconnect 'Undo `connect`: restore every value it changed'
            cand status 'Show which tools are connected, not connected or drifted'
            cand env 'Print the gateway environment for eval, a dotenv file or $GITHUB_ENV'
            cand doctor 'Check reachability, TLS, proxies, auth, fail-open and each tool''s config'
            cand gateway 'Run a local relay that streams to the org gateway and can fail open'
            cand run 'Run a command with the gateway environment, touching no file'
            cand login 'Sign in: store your Anyray key, or sign in with SSO (--sso, --browser)'
            cand logout 'Sign out: remove your stored key, revoke and delete your SSO session'
            cand token 'Print your current gateway key on stdout, for the tools'' credential helpers'
            cand usage 'Show your own spend as the gateway reports it: today, this week, by model and tool, and the budget left'
            cand statusline 'Print one status line for Claude Code''s statusLine setting (never waits on the network: answers from a cache refreshed in the background)'
            cand config 'Read or change anyray''s own settings'
            cand completions 'Print a shell completion script'
            cand generate 'Write completion scripts and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'anyray;connect'= {
            cand --gateway 'The org gateway URL, e.g. https://anyray.corp.example:8787 (saved to the config)'
            cand --via 'Point tools straight at the gateway, or at the local relay (saved to the config)'
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --dry-run 'Show the unified diff of every change and write nothing'
            cand --check 'Write nothing; exit 1 if any tool is not connected or has drifted (for CI)'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --offline 'Write without checking the gateway first (before joining the VPN, or in CI that only writes configs)'
            cand --force 'Connect named tools even if they look uninstalled, change read-only files, and skip the gateway check (as --offline)'
            cand --all-platforms 'Write editor terminal env for macOS, Linux and Windows, not only this OS'
            cand --identity 'Also send your Anyray identity header (by env var reference; never the key itself)'
            cand --statusline 'Also set Claude Code''s status line to `anyray statusline` (gateway state, spend today, budget left); a status line of yours is kept unless --chain-statusline or --force'
            cand --chain-statusline 'With --statusline: keep your own status line, run it first and append anyray''s'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;disconnect'= {
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --dry-run 'Show what would be restored and write nothing'
            cand -y 'Do not ask for confirmation'
            cand --yes 'Do not ask for confirmation'
            cand --force 'Restore even where you changed a managed value since `connect`, or the file is read-only'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;status'= {
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;env'= {
            cand --shell 'Output syntax (default: from $SHELL, else bash)'
            cand --gateway 'The org gateway URL (not saved)'
            cand --via 'Point at the gateway directly, or at the local relay'
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;doctor'= {
            cand --only 'Run only these checks (ids or groups, comma-separated or repeated)'
            cand --skip 'Skip these checks (ids or groups)'
            cand --timeout 'Bound for the whole run, in seconds'
            cand --gateway 'The org gateway URL to check (not saved)'
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --deep 'Also run gateway.deep: one streamed OpenAI completion with max_tokens 1 and two free Anthropic token counts, to prove the providers behind the gateway answer'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;gateway'= {
            cand --listen 'Address to listen on (default from config relay.listen, else 127.0.0.1:18787)'
            cand --upstream 'Org gateway URL to forward to; repeat in order of preference'
            cand --fallback 'What to do when no gateway is reachable'
            cand --log-file 'Write the access log to this file instead of stderr'
            cand --log-format 'Access log format'
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --allow-remote 'Allow listening on a non-loopback address'
            cand --check-config 'Validate the settings and exit without listening'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;run'= {
            cand --gateway 'The org gateway URL (not saved)'
            cand --via 'Point the command at the gateway directly, or at the configured relay'
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --relay 'Start an ephemeral relay on a free loopback port for the command''s lifetime'
            cand --print-env 'Show what would be set or passed (no secret values) and run nothing'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;login'= {
            cand --provider 'Store your own key for this provider instead, used only when the relay fails open while the gateway''s key is the tools'' API key (auth.scheme = key)'
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --token-stdin 'Read the key from standard input instead of prompting'
            cand --status 'Say where the key is stored and how long an SSO session lasts (never prints a token)'
            cand --sso 'Sign in with your organisation''s SSO instead of a key: anyray shows a code to enter on any device (the OAuth device login, for SSH and headless machines too)'
            cand --browser 'Sign in with your organisation''s SSO in this machine''s browser (implies --sso)'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;logout'= {
            cand --provider 'Remove your own key for this provider (from `anyray login --provider`) instead'
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;token'= {
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;usage'= {
            cand --gateway 'The org gateway URL to ask (not saved)'
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;statusline'= {
            cand --chain 'Run this status command first (through the shell, with the same JSON on stdin, as Claude Code runs it) and append anyray''s line to its output'
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --refresh 'Refresh the cache now (this waits on the relay and the gateway, each step bounded) and print the fresh line'
            cand --background 'The detached refresh a status line starts: releases its mark when done'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;config'= {
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand path 'Print the config file''s path'
            cand get 'Print a setting''s effective value and where it comes from'
            cand set 'Set a setting in the config file (comments and order are kept)'
            cand unset 'Remove a setting from the config file'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'anyray;config;path'= {
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;config;get'= {
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;config;set'= {
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;config;unset'= {
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;config;help'= {
            cand path 'Print the config file''s path'
            cand get 'Print a setting''s effective value and where it comes from'
            cand set 'Set a setting in the config file (comments and order are kept)'
            cand unset 'Remove a setting from the config file'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'anyray;config;help;path'= {
        }
        &'anyray;config;help;get'= {
        }
        &'anyray;config;help;set'= {
        }
        &'anyray;config;help;unset'= {
        }
        &'anyray;config;help;help'= {
        }
        &'anyray;completions'= {
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;generate'= {
            cand --out 'Directory that receives completions/ and man/'
            cand --color 'When to use colour (auto honours NO_COLOR and only colours a terminal)'
            cand --config 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]'
            cand --json 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
            cand -q 'Print only errors and warnings'
            cand --quiet 'Print only errors and warnings'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'anyray;help'= {
            cand connect 'Point tools at the gateway by editing their config files (reversible)'
            cand disconnect 'Undo `connect`: restore every value it changed'
            cand status 'Show which tools are connected, not connected or drifted'
            cand env 'Print the gateway environment for eval, a dotenv file or $GITHUB_ENV'
            cand doctor 'Check reachability, TLS, proxies, auth, fail-open and each tool''s config'
            cand gateway 'Run a local relay that streams to the org gateway and can fail open'
            cand run 'Run a command with the gateway environment, touching no file'
            cand login 'Sign in: store your Anyray key, or sign in with SSO (--sso, --browser)'
            cand logout 'Sign out: remove your stored key, revoke and delete your SSO session'
            cand token 'Print your current gateway key on stdout, for the tools'' credential helpers'
            cand usage 'Show your own spend as the gateway reports it: today, this week, by model and tool, and the budget left'
            cand statusline 'Print one status line for Claude Code''s statusLine setting (never waits on the network: answers from a cache refreshed in the background)'
            cand config 'Read or change anyray''s own settings'
            cand completions 'Print a shell completion script'
            cand generate 'Write completion scripts and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'anyray;help;connect'= {
        }
        &'anyray;help;disconnect'= {
        }
        &'anyray;help;status'= {
        }
        &'anyray;help;env'= {
        }
        &'anyray;help;doctor'= {
        }
        &'anyray;help;gateway'= {
        }
        &'anyray;help;run'= {
        }
        &'anyray;help;login'= {
        }
        &'anyray;help;logout'= {
        }
        &'anyray;help;token'= {
        }
        &'anyray;help;usage'= {
        }
        &'anyray;help;statusline'= {
        }
        &'anyray;help;config'= {
            cand path 'Print the config file''s path'
            cand get 'Print a setting''s effective value and where it comes from'
            cand set 'Set a setting in the config file (comments and order are kept)'
            cand unset 'Remove a setting from the config file'
        }
        &'anyray;help;config;path'= {
        }
        &'anyray;help;config;get'= {
        }
        &'anyray;help;config;set'= {
        }
        &'anyray;help;config;unset'= {
        }
        &'anyray;help;completions'= {
        }
        &'anyray;help;generate'= {
        }
        &'anyray;help;help'= {
        }
    ]
    $completions[$command]
}
