/** Every command skiff knows, in one list for yargs. */
import type { CommandModule } from 'yargs';
import { buildCmd, buildCommands, commitCmd } from './build.js';
import { containerCommands, create, exec, kill, ps, rm, run, start, stop } from './container.js';
import { attach, logs, logsCommands } from './logs.js';
import { history, imageCommands, imagePrune, images, pull, rmi, tag } from './image.js';
import { containerInspect, imageInspect, inspect } from './inspect.js';
import { containerPrune, lifecycleCommands, pause, rename, restart, stats, top, unpause, update, wait } from './lifecycle.js';
import { loginCmd, logoutCmd, version } from './misc.js';
import { networkGroup, port } from './network.js';
import { systemGroup } from './system.js';
import { load, push, save, transferCommands } from './transfer.js';
import { volumeGroup } from './volume.js';

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
  builder: (y) =>
    y.command([
      run, create, start, commitCmd, exec, rm, stop, kill, logs, attach, alias(ps, 'ls'), containerInspect,
      pause, unpause, stats, top, wait, restart, rename, update, containerPrune, port,
    ]).demandCommand(1),
  handler: () => undefined,
};

export const commands: CommandModule[] = [
  ...containerCommands,
  ...logsCommands,
  ...lifecycleCommands,
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
  networkGroup,
  port,
  volumeGroup,
];
