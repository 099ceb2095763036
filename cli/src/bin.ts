#!/usr/bin/env bun
import { Command } from 'commander'
import { alertsSecretCommand } from './commands/alerts-secret.ts'
import { devCommand } from './commands/dev.ts'
import { loginCommand } from './commands/login.ts'
import { logoutCommand } from './commands/logout.ts'
import { runsListCommand } from './commands/runs-list.ts'
import { runsReplayCommand } from './commands/runs-replay.ts'
import { runsShowCommand } from './commands/runs-show.ts'
import { runsWatchCommand } from './commands/runs-watch.ts'
import { signupCommand } from './commands/signup.ts'
import { statusCommand } from './commands/status.ts'
import { stepsCommand } from './commands/steps.ts'
import { triggerCommand } from './commands/trigger.ts'
import { whoamiCommand } from './commands/whoami.ts'
import { zapsCreateCommand } from './commands/zaps-create.ts'
import { zapsDeleteCommand } from './commands/zaps-delete.ts'
import { zapsDisableCommand } from './commands/zaps-disable.ts'
import { zapsEditCommand } from './commands/zaps-edit.ts'
import { zapsEnableCommand } from './commands/zaps-enable.ts'
import { zapsListCommand } from './commands/zaps-list.ts'
import { zapsShowCommand } from './commands/zaps-show.ts'
import { zapCommand } from './env.ts'
import { zapsRejectionsCommand } from './commands/zaps-rejections.ts'
import { helpFooter } from './help.ts'
// The version lives in the root package.json, as the services read it (the CLI imports no code of theirs).
import rootPackage from '../../package.json' with { type: 'json' }

const zaps = new Command('zaps')
  .description('Create, inspect, change and delete zaps')
  .addCommand(zapsListCommand())
  .addCommand(zapsShowCommand())
  .addCommand(zapsCreateCommand())
  .addCommand(zapsEditCommand())
  .addCommand(zapsEnableCommand())
  .addCommand(zapsDisableCommand())
  .addCommand(zapsDeleteCommand())
  .addCommand(zapsRejectionsCommand())

const runs = new Command('runs')
  .description('Inspect, follow and replay runs')
  .addCommand(runsListCommand())
  .addCommand(runsShowCommand())
  .addCommand(runsWatchCommand())
  .addCommand(runsReplayCommand())

const alerts = new Command('alerts').description('Failure alerts of your zaps').addCommand(alertsSecretCommand())

await new Command(zapCommand)
  .description('zap: webhook-triggered automations from your terminal')
  .version(rootPackage.version)
  .option('--api <url>', 'the zap API to talk to (default: $ZAP_API_URL, the API of your login, or http://localhost:3001)')
  .showHelpAfterError('(add --help for usage)')
  .addCommand(signupCommand())
  .addCommand(loginCommand())
  .addCommand(logoutCommand())
  .addCommand(whoamiCommand())
  .addCommand(zaps)
  .addCommand(stepsCommand())
  .addCommand(triggerCommand())
  .addCommand(runs)
  .addCommand(statusCommand())
  .addCommand(alerts)
  .addCommand(devCommand())
  .addHelpText('after', helpFooter)
  .parseAsync()
