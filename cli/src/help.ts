import { configPath } from './config.ts'
import { zapCommand } from './env.ts'

export const helpFooter = `
Environment:
  ZAP_API_URL   the API to talk to, e.g. https://zap.example.com (--api overrides)
  ZAP_TOKEN     a token to use instead of the saved login, e.g. in CI
  NO_COLOR      any value turns colour off (colour is only used on a terminal)

The login is saved in ${configPath} (mode 0600; $XDG_CONFIG_HOME is honoured).

Examples:
  $ ${zapCommand} signup
  $ ${zapCommand} zaps create
  $ ${zapCommand} trigger <zapId> --data '{"name":"Ada"}' --wait
  $ ${zapCommand} runs list --status failed
  $ ${zapCommand} runs replay --failed --since 1h`
