
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'anyray' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'anyray'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'anyray' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Point tools at the gateway by editing their config files (reversible)')
            [CompletionResult]::new('disconnect', 'disconnect', [CompletionResultType]::ParameterValue, 'Undo `connect`: restore every value it changed')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show which tools are connected, not connected or drifted')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Print the gateway environment for eval, a dotenv file or $GITHUB_ENV')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check reachability, TLS, proxies, auth, fail-open and each tool''s config')
            [CompletionResult]::new('gateway', 'gateway', [CompletionResultType]::ParameterValue, 'Run a local relay that streams to the org gateway and can fail open')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command with the gateway environment, touching no file')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in: store your Anyray key, or sign in with SSO (--sso, --browser)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Sign out: remove your stored key, revoke and delete your SSO session')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print your current gateway key on stdout, for the tools'' credential helpers')
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Show your own spend as the gateway reports it: today, this week, by model and tool, and the budget left')
            [CompletionResult]::new('statusline', 'statusline', [CompletionResultType]::ParameterValue, 'Print one status line for Claude Code''s statusLine setting (never waits on the network: answers from a cache refreshed in the background)')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Read or change anyray''s own settings')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write completion scripts and man pages into a directory (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'anyray;connect' {
            [CompletionResult]::new('--gateway', '--gateway', [CompletionResultType]::ParameterName, 'The org gateway URL, e.g. https://anyray.corp.example:8787 (saved to the config)')
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Point tools straight at the gateway, or at the local relay (saved to the config)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the unified diff of every change and write nothing')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Write nothing; exit 1 if any tool is not connected or has drifted (for CI)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Write without checking the gateway first (before joining the VPN, or in CI that only writes configs)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Connect named tools even if they look uninstalled, change read-only files, and skip the gateway check (as --offline)')
            [CompletionResult]::new('--all-platforms', '--all-platforms', [CompletionResultType]::ParameterName, 'Write editor terminal env for macOS, Linux and Windows, not only this OS')
            [CompletionResult]::new('--identity', '--identity', [CompletionResultType]::ParameterName, 'Also send your Anyray identity header (by env var reference; never the key itself)')
            [CompletionResult]::new('--statusline', '--statusline', [CompletionResultType]::ParameterName, 'Also set Claude Code''s status line to `anyray statusline` (gateway state, spend today, budget left); a status line of yours is kept unless --chain-statusline or --force')
            [CompletionResult]::new('--chain-statusline', '--chain-statusline', [CompletionResultType]::ParameterName, 'With --statusline: keep your own status line, run it first and append anyray''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;disconnect' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be restored and write nothing')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Restore even where you changed a managed value since `connect`, or the file is read-only')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;status' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;env' {
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'Output syntax (default: from $SHELL, else bash)')
            [CompletionResult]::new('--gateway', '--gateway', [CompletionResultType]::ParameterName, 'The org gateway URL (not saved)')
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Point at the gateway directly, or at the local relay')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;doctor' {
            [CompletionResult]::new('--only', '--only', [CompletionResultType]::ParameterName, 'Run only these checks (ids or groups, comma-separated or repeated)')
            [CompletionResult]::new('--skip', '--skip', [CompletionResultType]::ParameterName, 'Skip these checks (ids or groups)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Bound for the whole run, in seconds')
            [CompletionResult]::new('--gateway', '--gateway', [CompletionResultType]::ParameterName, 'The org gateway URL to check (not saved)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--deep', '--deep', [CompletionResultType]::ParameterName, 'Also run gateway.deep: one streamed OpenAI completion with max_tokens 1 and two free Anthropic token counts, to prove the providers behind the gateway answer')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;gateway' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (default from config relay.listen, else 127.0.0.1:18787)')
            [CompletionResult]::new('--upstream', '--upstream', [CompletionResultType]::ParameterName, 'Org gateway URL to forward to; repeat in order of preference')
            [CompletionResult]::new('--fallback', '--fallback', [CompletionResultType]::ParameterName, 'What to do when no gateway is reachable')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Write the access log to this file instead of stderr')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Access log format')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--allow-remote', '--allow-remote', [CompletionResultType]::ParameterName, 'Allow listening on a non-loopback address')
            [CompletionResult]::new('--check-config', '--check-config', [CompletionResultType]::ParameterName, 'Validate the settings and exit without listening')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;run' {
            [CompletionResult]::new('--gateway', '--gateway', [CompletionResultType]::ParameterName, 'The org gateway URL (not saved)')
            [CompletionResult]::new('--via', '--via', [CompletionResultType]::ParameterName, 'Point the command at the gateway directly, or at the configured relay')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--relay', '--relay', [CompletionResultType]::ParameterName, 'Start an ephemeral relay on a free loopback port for the command''s lifetime')
            [CompletionResult]::new('--print-env', '--print-env', [CompletionResultType]::ParameterName, 'Show what would be set or passed (no secret values) and run nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;login' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Store your own key for this provider instead, used only when the relay fails open while the gateway''s key is the tools'' API key (auth.scheme = key)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--token-stdin', '--token-stdin', [CompletionResultType]::ParameterName, 'Read the key from standard input instead of prompting')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Say where the key is stored and how long an SSO session lasts (never prints a token)')
            [CompletionResult]::new('--sso', '--sso', [CompletionResultType]::ParameterName, 'Sign in with your organisation''s SSO instead of a key: anyray shows a code to enter on any device (the OAuth device login, for SSH and headless machines too)')
            [CompletionResult]::new('--browser', '--browser', [CompletionResultType]::ParameterName, 'Sign in with your organisation''s SSO in this machine''s browser (implies --sso)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;logout' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Remove your own key for this provider (from `anyray login --provider`) instead')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;token' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;usage' {
            [CompletionResult]::new('--gateway', '--gateway', [CompletionResultType]::ParameterName, 'The org gateway URL to ask (not saved)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;statusline' {
            [CompletionResult]::new('--chain', '--chain', [CompletionResultType]::ParameterName, 'Run this status command first (through the shell, with the same JSON on stdin, as Claude Code runs it) and append anyray''s line to its output')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--refresh', '--refresh', [CompletionResultType]::ParameterName, 'Refresh the cache now (this waits on the relay and the gateway, each step bounded) and print the fresh line')
            [CompletionResult]::new('--background', '--background', [CompletionResultType]::ParameterName, 'The detached refresh a status line starts: releases its mark when done')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;config' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file''s path')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a setting''s effective value and where it comes from')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a setting in the config file (comments and order are kept)')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a setting from the config file')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'anyray;config;path' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;config;get' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;config;set' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;config;unset' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;config;help' {
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file''s path')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a setting''s effective value and where it comes from')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a setting in the config file (comments and order are kept)')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a setting from the config file')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'anyray;config;help;path' {
            break
        }
        'anyray;config;help;get' {
            break
        }
        'anyray;config;help;set' {
            break
        }
        'anyray;config;help;unset' {
            break
        }
        'anyray;config;help;help' {
            break
        }
        'anyray;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;generate' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory that receives completions/ and man/')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour (auto honours NO_COLOR and only colours a terminal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read and write this config file instead of the default [env: ANYRAY_CONFIG]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout (a stable schema; errors are JSON too)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors and warnings')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'anyray;help' {
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Point tools at the gateway by editing their config files (reversible)')
            [CompletionResult]::new('disconnect', 'disconnect', [CompletionResultType]::ParameterValue, 'Undo `connect`: restore every value it changed')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show which tools are connected, not connected or drifted')
            [CompletionResult]::new('env', 'env', [CompletionResultType]::ParameterValue, 'Print the gateway environment for eval, a dotenv file or $GITHUB_ENV')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check reachability, TLS, proxies, auth, fail-open and each tool''s config')
            [CompletionResult]::new('gateway', 'gateway', [CompletionResultType]::ParameterValue, 'Run a local relay that streams to the org gateway and can fail open')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command with the gateway environment, touching no file')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Sign in: store your Anyray key, or sign in with SSO (--sso, --browser)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Sign out: remove your stored key, revoke and delete your SSO session')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Print your current gateway key on stdout, for the tools'' credential helpers')
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Show your own spend as the gateway reports it: today, this week, by model and tool, and the budget left')
            [CompletionResult]::new('statusline', 'statusline', [CompletionResultType]::ParameterValue, 'Print one status line for Claude Code''s statusLine setting (never waits on the network: answers from a cache refreshed in the background)')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Read or change anyray''s own settings')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write completion scripts and man pages into a directory (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'anyray;help;connect' {
            break
        }
        'anyray;help;disconnect' {
            break
        }
        'anyray;help;status' {
            break
        }
        'anyray;help;env' {
            break
        }
        'anyray;help;doctor' {
            break
        }
        'anyray;help;gateway' {
            break
        }
        'anyray;help;run' {
            break
        }
        'anyray;help;login' {
            break
        }
        'anyray;help;logout' {
            break
        }
        'anyray;help;token' {
            break
        }
        'anyray;help;usage' {
            break
        }
        'anyray;help;statusline' {
            break
        }
        'anyray;help;config' {
            [CompletionResult]::new('path', 'path', [CompletionResultType]::ParameterValue, 'Print the config file''s path')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print a setting''s effective value and where it comes from')
            [CompletionResult]::new('set', 'set', [CompletionResultType]::ParameterValue, 'Set a setting in the config file (comments and order are kept)')
            [CompletionResult]::new('unset', 'unset', [CompletionResultType]::ParameterValue, 'Remove a setting from the config file')
            break
        }
        'anyray;help;config;path' {
            break
        }
        'anyray;help;config;get' {
            break
        }
        'anyray;help;config;set' {
            break
        }
        'anyray;help;config;unset' {
            break
        }
        'anyray;help;completions' {
            break
        }
        'anyray;help;generate' {
            break
        }
        'anyray;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
