# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_anyray_global_optspecs
    string join \n json q/quiet color= config= h/help V/version
end

function __fish_anyray_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_anyray_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_anyray_using_subcommand
    set -l cmd (__fish_anyray_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c anyray -n "__fish_anyray_needs_command" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_needs_command" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_needs_command" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_needs_command" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_needs_command" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "connect" -d 'Point tools at the gateway by editing their config files (reversible)'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "disconnect" -d 'Undo `connect`: restore every value it changed'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "status" -d 'Show which tools are connected, not connected or drifted'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "env" -d 'Print the gateway environment for eval, a dotenv file or $GITHUB_ENV'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "doctor" -d 'Check reachability, TLS, proxies, auth, fail-open and each tool\'s config'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "gateway" -d 'Run a local relay that streams to the org gateway and can fail open'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "run" -d 'Run a command with the gateway environment, touching no file'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "login" -d 'Sign in: store your Anyray key, or sign in with SSO (--sso, --browser)'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "logout" -d 'Sign out: remove your stored key, revoke and delete your SSO session'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "token" -d 'Print your current gateway key on stdout, for the tools\' credential helpers'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "usage" -d 'Show your own spend as the gateway reports it: today, this week, by model and tool, and the budget left'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "statusline" -d 'Print one status line for Claude Code\'s statusLine setting (never waits on the network: answers from a cache refreshed in the background)'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "config" -d 'Read or change anyray\'s own settings'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "generate" -d 'Write completion scripts and man pages into a directory (for packagers)'
complete -c anyray -n "__fish_anyray_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l gateway -d 'The org gateway URL, e.g. https://anyray.corp.example:8787 (saved to the config)' -r
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l via -d 'Point tools straight at the gateway, or at the local relay (saved to the config)' -r -f -a "direct\t'Straight to the org gateway URL'
relay\t'Through the local relay (`anyray gateway`)'"
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l dry-run -d 'Show the unified diff of every change and write nothing'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l check -d 'Write nothing; exit 1 if any tool is not connected or has drifted (for CI)'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -s y -l yes -d 'Do not ask for confirmation'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l offline -d 'Write without checking the gateway first (before joining the VPN, or in CI that only writes configs)'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l force -d 'Connect named tools even if they look uninstalled, change read-only files, and skip the gateway check (as --offline)'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l all-platforms -d 'Write editor terminal env for macOS, Linux and Windows, not only this OS'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l identity -d 'Also send your Anyray identity header (by env var reference; never the key itself)'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l statusline -d 'Also set Claude Code\'s status line to `anyray statusline` (gateway state, spend today, budget left); a status line of yours is kept unless --chain-statusline or --force'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l chain-statusline -d 'With --statusline: keep your own status line, run it first and append anyray\'s'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -l dry-run -d 'Show what would be restored and write nothing'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -s y -l yes -d 'Do not ask for confirmation'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -l force -d 'Restore even where you changed a managed value since `connect`, or the file is read-only'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand status" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand status" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand status" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand status" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand status" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand env" -l shell -d 'Output syntax (default: from $SHELL, else bash)' -r -f -a "bash\t''
zsh\t''
fish\t''
pwsh\t''
dotenv\t'KEY=value lines for a .env file'
github\t'KEY=value lines for $GITHUB_ENV'"
complete -c anyray -n "__fish_anyray_using_subcommand env" -l gateway -d 'The org gateway URL (not saved)' -r
complete -c anyray -n "__fish_anyray_using_subcommand env" -l via -d 'Point at the gateway directly, or at the local relay' -r -f -a "direct\t'Straight to the org gateway URL'
relay\t'Through the local relay (`anyray gateway`)'"
complete -c anyray -n "__fish_anyray_using_subcommand env" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand env" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand env" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand env" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand env" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand env" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -l only -d 'Run only these checks (ids or groups, comma-separated or repeated)' -r -f -a "config\t''
net.dns\t''
net.tcp\t''
net.tls\t''
net.http\t''
net.proxy\t''
gateway.discovery\t''
gateway.routes\t''
gateway.auth\t''
gateway.optimizer\t''
gateway.deep\t''
failopen.path\t''
relay\t''
tools.claude-code\t''
tools.cursor\t''
tools.windsurf\t''
tools.codex\t''
tools.shell\t''
tools.gemini\t''
tools.opencode\t''
tools.continue\t''
tools.aider\t''
tools.goose\t''
tools.zed\t''
tools.droid\t''
tools.crush\t''
tools.qwen\t''
tools.copilot\t''
net\t''
gateway\t''
tools\t''"
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -l skip -d 'Skip these checks (ids or groups)' -r -f -a "config\t''
net.dns\t''
net.tcp\t''
net.tls\t''
net.http\t''
net.proxy\t''
gateway.discovery\t''
gateway.routes\t''
gateway.auth\t''
gateway.optimizer\t''
gateway.deep\t''
failopen.path\t''
relay\t''
tools.claude-code\t''
tools.cursor\t''
tools.windsurf\t''
tools.codex\t''
tools.shell\t''
tools.gemini\t''
tools.opencode\t''
tools.continue\t''
tools.aider\t''
tools.goose\t''
tools.zed\t''
tools.droid\t''
tools.crush\t''
tools.qwen\t''
tools.copilot\t''
net\t''
gateway\t''
tools\t''"
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -l timeout -d 'Bound for the whole run, in seconds' -r
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -l gateway -d 'The org gateway URL to check (not saved)' -r
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -l deep -d 'Also run gateway.deep: one streamed OpenAI completion with max_tokens 1 and two free Anthropic token counts, to prove the providers behind the gateway answer'
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c anyray -n "__fish_anyray_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -l listen -d 'Address to listen on (default from config relay.listen, else 127.0.0.1:18787)' -r
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -l upstream -d 'Org gateway URL to forward to; repeat in order of preference' -r
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -l fallback -d 'What to do when no gateway is reachable' -r -f -a "none\t'Answer 502 in the provider\'s error shape when no gateway is reachable'
direct\t'Forward unchanged to the provider\'s public API when no gateway is reachable'"
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -l log-file -d 'Write the access log to this file instead of stderr' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -l log-format -d 'Access log format' -r -f -a "human\t''
json\t''"
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -l allow-remote -d 'Allow listening on a non-loopback address'
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -l check-config -d 'Validate the settings and exit without listening'
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand gateway" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand run" -l gateway -d 'The org gateway URL (not saved)' -r
complete -c anyray -n "__fish_anyray_using_subcommand run" -l via -d 'Point the command at the gateway directly, or at the configured relay' -r -f -a "direct\t'Straight to the org gateway URL'
relay\t'Through the local relay (`anyray gateway`)'"
complete -c anyray -n "__fish_anyray_using_subcommand run" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand run" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand run" -l relay -d 'Start an ephemeral relay on a free loopback port for the command\'s lifetime'
complete -c anyray -n "__fish_anyray_using_subcommand run" -l print-env -d 'Show what would be set or passed (no secret values) and run nothing'
complete -c anyray -n "__fish_anyray_using_subcommand run" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand run" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand run" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand login" -l provider -d 'Store your own key for this provider instead, used only when the relay fails open while the gateway\'s key is the tools\' API key (auth.scheme = key)' -r -f -a "openai\t''
anthropic\t''
gemini\t''"
complete -c anyray -n "__fish_anyray_using_subcommand login" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand login" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand login" -l token-stdin -d 'Read the key from standard input instead of prompting'
complete -c anyray -n "__fish_anyray_using_subcommand login" -l status -d 'Say where the key is stored and how long an SSO session lasts (never prints a token)'
complete -c anyray -n "__fish_anyray_using_subcommand login" -l sso -d 'Sign in with your organisation\'s SSO instead of a key: anyray shows a code to enter on any device (the OAuth device login, for SSH and headless machines too)'
complete -c anyray -n "__fish_anyray_using_subcommand login" -l browser -d 'Sign in with your organisation\'s SSO in this machine\'s browser (implies --sso)'
complete -c anyray -n "__fish_anyray_using_subcommand login" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand login" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand login" -s h -l help -d 'Print help'
complete -c anyray -n "__fish_anyray_using_subcommand login" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand logout" -l provider -d 'Remove your own key for this provider (from `anyray login --provider`) instead' -r -f -a "openai\t''
anthropic\t''
gemini\t''"
complete -c anyray -n "__fish_anyray_using_subcommand logout" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand logout" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand logout" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand logout" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand logout" -s h -l help -d 'Print help'
complete -c anyray -n "__fish_anyray_using_subcommand logout" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand token" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand token" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand token" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand token" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand token" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand token" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand usage" -l gateway -d 'The org gateway URL to ask (not saved)' -r
complete -c anyray -n "__fish_anyray_using_subcommand usage" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand usage" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand usage" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand usage" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand usage" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand usage" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand statusline" -l chain -d 'Run this status command first (through the shell, with the same JSON on stdin, as Claude Code runs it) and append anyray\'s line to its output' -r
complete -c anyray -n "__fish_anyray_using_subcommand statusline" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand statusline" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand statusline" -l refresh -d 'Refresh the cache now (this waits on the relay and the gateway, each step bounded) and print the fresh line'
complete -c anyray -n "__fish_anyray_using_subcommand statusline" -l background -d 'The detached refresh a status line starts: releases its mark when done'
complete -c anyray -n "__fish_anyray_using_subcommand statusline" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand statusline" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand statusline" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand statusline" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -f -a "path" -d 'Print the config file\'s path'
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -f -a "get" -d 'Print a setting\'s effective value and where it comes from'
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -f -a "set" -d 'Set a setting in the config file (comments and order are kept)'
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -f -a "unset" -d 'Remove a setting from the config file'
complete -c anyray -n "__fish_anyray_using_subcommand config; and not __fish_seen_subcommand_from path get set unset help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from path" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from path" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from path" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from path" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from path" -s h -l help -d 'Print help'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from path" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from get" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from get" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from get" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from get" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from set" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from set" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from set" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from set" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from set" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from unset" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from unset" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from unset" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from unset" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from unset" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from unset" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "path" -d 'Print the config file\'s path'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print a setting\'s effective value and where it comes from'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "set" -d 'Set a setting in the config file (comments and order are kept)'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "unset" -d 'Remove a setting from the config file'
complete -c anyray -n "__fish_anyray_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anyray -n "__fish_anyray_using_subcommand completions" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand completions" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand completions" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand completions" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand completions" -s h -l help -d 'Print help'
complete -c anyray -n "__fish_anyray_using_subcommand completions" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand generate" -l out -d 'Directory that receives completions/ and man/' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand generate" -l color -d 'When to use colour (auto honours NO_COLOR and only colours a terminal)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c anyray -n "__fish_anyray_using_subcommand generate" -l config -d 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]' -r -F
complete -c anyray -n "__fish_anyray_using_subcommand generate" -l json -d 'Print one JSON document on stdout (a stable schema; errors are JSON too)'
complete -c anyray -n "__fish_anyray_using_subcommand generate" -s q -l quiet -d 'Print only errors and warnings'
complete -c anyray -n "__fish_anyray_using_subcommand generate" -s h -l help -d 'Print help'
complete -c anyray -n "__fish_anyray_using_subcommand generate" -s V -l version -d 'Print version'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "connect" -d 'Point tools at the gateway by editing their config files (reversible)'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "disconnect" -d 'Undo `connect`: restore every value it changed'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "status" -d 'Show which tools are connected, not connected or drifted'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "env" -d 'Print the gateway environment for eval, a dotenv file or $GITHUB_ENV'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "doctor" -d 'Check reachability, TLS, proxies, auth, fail-open and each tool\'s config'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "gateway" -d 'Run a local relay that streams to the org gateway and can fail open'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "run" -d 'Run a command with the gateway environment, touching no file'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "login" -d 'Sign in: store your Anyray key, or sign in with SSO (--sso, --browser)'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "logout" -d 'Sign out: remove your stored key, revoke and delete your SSO session'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "token" -d 'Print your current gateway key on stdout, for the tools\' credential helpers'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "usage" -d 'Show your own spend as the gateway reports it: today, this week, by model and tool, and the budget left'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "statusline" -d 'Print one status line for Claude Code\'s statusLine setting (never waits on the network: answers from a cache refreshed in the background)'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "config" -d 'Read or change anyray\'s own settings'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "completions" -d 'Print a shell completion script'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "generate" -d 'Write completion scripts and man pages into a directory (for packagers)'
complete -c anyray -n "__fish_anyray_using_subcommand help; and not __fish_seen_subcommand_from connect disconnect status env doctor gateway run login logout token usage statusline config completions generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c anyray -n "__fish_anyray_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "path" -d 'Print the config file\'s path'
complete -c anyray -n "__fish_anyray_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "get" -d 'Print a setting\'s effective value and where it comes from'
complete -c anyray -n "__fish_anyray_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "set" -d 'Set a setting in the config file (comments and order are kept)'
complete -c anyray -n "__fish_anyray_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "unset" -d 'Remove a setting from the config file'
# Positional values (added by anyray)
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "claude-code" -d 'Claude Code: ~/.claude/settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "cursor" -d 'Cursor: the editor\'s user settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "windsurf" -d 'Windsurf: the editor\'s user settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "codex" -d 'Codex CLI: ~/.codex/config.toml'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "shell" -d 'bash, zsh, fish and PowerShell, through an env file anyray owns'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "gemini" -d 'Gemini CLI and the Google GenAI SDK, through the shell env file'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "opencode" -d 'opencode: ~/.config/opencode/opencode.json'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "continue" -d 'Continue (`cn` and the IDE extensions): ~/.continue/config.yaml'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "aider" -d 'aider: ~/.aider.conf.yml'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "goose" -d 'Goose: a custom provider in ~/.config/goose'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "zed" -d 'Zed: the editor\'s settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "droid" -d 'Factory\'s droid: ~/.factory/settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "crush" -d 'Crush: ~/.config/crush/crush.json'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "qwen" -d 'Qwen Code: ~/.qwen/settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand connect" -f -a "copilot" -d 'GitHub Copilot CLI (bring your own key), through the shell env file'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "claude-code" -d 'Claude Code: ~/.claude/settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "cursor" -d 'Cursor: the editor\'s user settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "windsurf" -d 'Windsurf: the editor\'s user settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "codex" -d 'Codex CLI: ~/.codex/config.toml'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "shell" -d 'bash, zsh, fish and PowerShell, through an env file anyray owns'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "gemini" -d 'Gemini CLI and the Google GenAI SDK, through the shell env file'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "opencode" -d 'opencode: ~/.config/opencode/opencode.json'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "continue" -d 'Continue (`cn` and the IDE extensions): ~/.continue/config.yaml'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "aider" -d 'aider: ~/.aider.conf.yml'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "goose" -d 'Goose: a custom provider in ~/.config/goose'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "zed" -d 'Zed: the editor\'s settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "droid" -d 'Factory\'s droid: ~/.factory/settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "crush" -d 'Crush: ~/.config/crush/crush.json'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "qwen" -d 'Qwen Code: ~/.qwen/settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand disconnect" -f -a "copilot" -d 'GitHub Copilot CLI (bring your own key), through the shell env file'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "claude-code" -d 'Claude Code: ~/.claude/settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "cursor" -d 'Cursor: the editor\'s user settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "windsurf" -d 'Windsurf: the editor\'s user settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "codex" -d 'Codex CLI: ~/.codex/config.toml'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "shell" -d 'bash, zsh, fish and PowerShell, through an env file anyray owns'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "gemini" -d 'Gemini CLI and the Google GenAI SDK, through the shell env file'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "opencode" -d 'opencode: ~/.config/opencode/opencode.json'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "continue" -d 'Continue (`cn` and the IDE extensions): ~/.continue/config.yaml'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "aider" -d 'aider: ~/.aider.conf.yml'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "goose" -d 'Goose: a custom provider in ~/.config/goose'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "zed" -d 'Zed: the editor\'s settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "droid" -d 'Factory\'s droid: ~/.factory/settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "crush" -d 'Crush: ~/.config/crush/crush.json'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "qwen" -d 'Qwen Code: ~/.qwen/settings.json'
complete -c anyray -n "__fish_anyray_using_subcommand status" -f -a "copilot" -d 'GitHub Copilot CLI (bring your own key), through the shell env file'
complete -c anyray -n "__fish_anyray_using_subcommand completions" -f -a "bash" -d ''
complete -c anyray -n "__fish_anyray_using_subcommand completions" -f -a "zsh" -d ''
complete -c anyray -n "__fish_anyray_using_subcommand completions" -f -a "fish" -d ''
complete -c anyray -n "__fish_anyray_using_subcommand completions" -f -a "powershell" -d ''
complete -c anyray -n "__fish_anyray_using_subcommand completions" -f -a "elvish" -d ''
