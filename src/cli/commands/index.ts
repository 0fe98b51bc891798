/**
 * Every command skiff knows, for yargs. Commands with a descriptor (`<group>/<verb>.ts`, command.ts)
 * are served through the adapter (cli/adapter.ts) at the top level and under their group, with the
 * words their descriptor lists; the others are old-style yargs modules until they are ported.
 */
import type { CommandModule } from 'yargs';
import { toYargs } from '../adapter.js';
import type { Command } from '../command.js';
import { buildCmd, buildCommands, commitCmd } from './build.js';
import { create, exec, run } from './container.js';
import attach from './container/attach.js';
import kill from './container/kill.js';
import logs from './container/logs.js';
import ls from './container/ls.js';
import pause from './container/pause.js';
import prune from './container/prune.js';
import rename from './container/rename.js';
import restart from './container/restart.js';
import rm from './container/rm.js';
import start from './container/start.js';
import stats from './container/stats.js';
import stop from './container/stop.js';
import unpause from './container/unpause.js';
import wait from './container/wait.js';
import { history, imageCommands, imagePrune, images, pull, rmi, tag } from './image.js';
import { containerInspect, imageInspect, inspect } from './inspect.js';
import { top } from './lifecycle.js';
import { loginCmd, logoutCmd, version } from './misc.js';
import { systemGroup } from './system.js';
import { load, push, save, transferCommands } from './transfer.js';

/** The container verbs that have their descriptor (run, create, exec, top: old style, their options pass through). */
const CONTAINER: Command[] = [start, rm, stop, kill, ls, logs, attach, pause, unpause, stats, wait, restart, rename, prune];
const at = (cmds: Command[], level: 'top' | 'group'): CommandModule[] => cmds.flatMap((c) => toYargs(c, level) ?? []);

const alias = (m: CommandModule, command: string): CommandModule => ({ ...m, command, aliases: [] });

const imageGroup: CommandModule = {
  command: 'image <command>',
  describe: 'Manage images',
  builder: (y) =>
    y.command([
      pull, buildCmd, alias(images, 'ls [reference]'), alias(rmi, 'rm <image..>'), tag, history, imagePrune, imageInspect, push, save, load,
    ]).demandCommand(1),
  handler: () => undefined,
};

const containerGroup: CommandModule = {
  command: 'container <command>',
  describe: 'Manage containers',
  builder: (y) => y.command([run, create, commitCmd, exec, containerInspect, top, ...at(CONTAINER, 'group')]).demandCommand(1),
  handler: () => undefined,
};

export const commands: CommandModule[] = [
  run,
  create,
  exec,
  top,
  ...at(CONTAINER, 'top'),
  ...imageCommands,
  ...transferCommands,
  ...buildCommands,
  inspect,
  loginCmd,
  logoutCmd,
  version,
  imageGroup,
  containerGroup,
  systemGroup,
];
