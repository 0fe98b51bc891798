/**
 * The Engine API's exec: create (`POST /containers/{id}/exec`), start (`POST /exec/{id}/start`:
 * hijacked, 101 UPGRADED, or a plain streamed reply; detached), inspect and resize (the shim's tty).
 * Records live in the service's memory (an exec is the service's child: the shim, `skiff-shim exec`,
 * with pipes for its stdio), running the process file `skiff exec` runs (lifecycle.ts prepareExec).
 * Output goes out raw with a tty, in multiplexed frames without; a client that leaves before its
 * exec ends takes the exec with it (the shim is killed, its process dies with it: PDEATHSIG).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { prepareExec, resizeExec, spawnExec, type ExecOptions, type PreparedExec } from '../container/lifecycle.js';
import { containerState } from '../container/state.js';
import { SkiffError } from '../errors.js';
import { newId } from '../lib/ids.js';
import { findContainer, type ContainerRecord } from '../store/containers.js';
import { streamType, type Sink } from './attach.js';
import { bool, str, strList, type Json } from './body.js';
import { ApiError, frame, noContent, querySize, readJson, sendJson } from './http.js';
import type { Route } from './router.js';

interface ExecRecord {
  ID: string;
  rec: ContainerRecord;
  opts: ExecOptions;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys: string;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  child?: ChildProcess;
  prepared?: PreparedExec;
  /** when it ended (records of ended execs are dropped oldest first past MAX_EXECS) */
  ended?: number;
}

const execs = new Map<string, ExecRecord>();
const MAX_EXECS = 1000;
/** How long an ended exec's output may stay open (held by a process it left behind) before its stream ends. */
const OUTPUT_GRACE_MS = 1000;
/** How often a hijacked exec's connection is looked at for a client that left. */
const PEER_CHECK_MS = 500;

function remember(e: ExecRecord): void {
  execs.set(e.ID, e);
  if (execs.size <= MAX_EXECS) return;
  const done = [...execs.values()].filter((x) => x.ended !== undefined).sort((a, b) => a.ended! - b.ended!);
  for (const x of done.slice(0, execs.size - MAX_EXECS)) execs.delete(x.ID);
}

function findExec(id: string): ExecRecord {
  const e = execs.get(id);
  if (!e) throw new ApiError(404, `No such exec instance: ${id}`);
  return e;
}

/** The exec's process as the shim's descendant: the shim's child (the process in the container), else the shim. */
function processPid(child: ChildProcess | undefined): number {
  if (!child?.pid) return 0;
  try {
    const kids = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    if (kids.length) return Number(kids[0]);
  } catch {
    /* gone */
  }
  return child.exitCode === null ? child.pid : 0;
}

function inspectExec(e: ExecRecord): Json {
  return {
    CanRemove: false,
    ContainerID: e.rec.Id,
    DetachKeys: e.detachKeys,
    ExitCode: e.exitCode,
    ID: e.ID,
    OpenStderr: e.stderr,
    OpenStdin: e.stdin,
    OpenStdout: e.stdout,
    ProcessConfig: { arguments: e.opts.args.slice(1), entrypoint: e.opts.args[0], privileged: e.opts.privileged, tty: e.opts.tty, user: e.opts.user ?? '' },
    Running: e.running,
    Pid: e.running ? processPid(e.child) : 0,
  };
}

/** The container is there to exec into: running, not paused (Docker's 409s). */
function checkRunnable(rec: ContainerRecord): void {
  const st = containerState(rec);
  if (!st.Running || !st.Pid) throw new SkiffError('ESTATE', `Container ${rec.Id} is not running`);
  if (st.Paused) throw new SkiffError('ESTATE', `Container ${rec.Id} is paused, unpause the container before exec`);
  if (st.Restarting) throw new SkiffError('ESTATE', `Container ${rec.Id} is restarting, wait until the container is running`);
}

/**
 * Run the exec until it ends: its output to `sink` (raw with a tty, else frames; only the streams
 * asked for), `input` to its stdin when it was created with AttachStdin (the client's end of input
 * closes it). Resolves when it ended and its output is out; its exit code is then in the record.
 */
function runExec(e: ExecRecord, child: ChildProcess, sink: Sink | undefined, input: NodeJS.ReadableStream | undefined): Promise<void> {
  return new Promise((resolve) => {
    const out = (stream: 1 | 2) => (d: Buffer): void => {
      if (!sink || sink.closed() || !(stream === 1 ? e.stdout : e.stderr)) return;
      if (!sink.write(e.opts.tty ? d : frame(stream, d))) {
        child.stdout?.pause();
        child.stderr?.pause();
        void sink.drain().then(() => {
          child.stdout?.resume();
          child.stderr?.resume();
        });
      }
    };
    child.stdout?.on('data', out(1));
    child.stderr?.on('data', out(2));
    const onInput = (d: Buffer): void => void child.stdin?.write(d);
    const onInputEnd = (): void => void child.stdin?.end();
    if (input && child.stdin) {
      child.stdin.on('error', () => undefined); // the process closed its stdin: the rest is dropped
      input.on('data', onInput);
      input.once('end', onInputEnd);
      input.resume(); // paused while the request's body was taken off (server.ts upgradeBody)
    }
    // the client left before the exec ended: the exec goes too (nothing of a dropped request stays);
    // a silent exec learns it by looking at the connection (a write would fail, but there is none)
    const leave = (): void => void (e.running && child.kill('SIGKILL'));
    sink?.onClose(leave);
    const look = sink?.peerGone ? setInterval(() => sink.peerGone!() && leave(), PEER_CHECK_MS) : undefined;
    child.once('error', () => undefined);
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (done) return;
      done = true;
      if (look) clearInterval(look);
      input?.removeListener('data', onInput);
      input?.removeListener('end', onInputEnd);
      e.exitCode = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 125);
      e.running = false;
      e.ended = Date.now();
      e.child = undefined;
      resolve();
    };
    child.once('close', finish);
    // a process it left in the background may hold the output open: the exec ends a moment after its exit
    child.once('exit', (code, signal) => {
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(code, signal);
      }, OUTPUT_GRACE_MS).unref();
    });
  });
}

export const execRoutes: Route[] = [
  {
    method: 'POST', path: /^\/containers\/([^/]+)\/exec$/,
    handle: async ({ req, res, params }) => {
      const body = await readJson(req);
      const rec = findContainer(params[0]!);
      const args = strList(body.Cmd, 'Cmd');
      if (!args.length) throw new ApiError(400, 'No exec command specified');
      const user = str(body.User, 'User');
      const workdir = str(body.WorkingDir, 'WorkingDir');
      if (workdir !== undefined && !workdir.startsWith('/')) throw new ApiError(400, `the working directory '${workdir}' is invalid, it needs to be an absolute path`);
      const opts: ExecOptions = {
        args, tty: bool(body.Tty, 'Tty'), interactive: bool(body.AttachStdin, 'AttachStdin'), env: strList(body.Env, 'Env'),
        ...(user ? { user } : {}), ...(workdir ? { workdir } : {}), privileged: bool(body.Privileged, 'Privileged'),
      };
      checkRunnable(rec);
      const e: ExecRecord = {
        ID: newId(), rec, opts, stdin: opts.interactive, stdout: bool(body.AttachStdout, 'AttachStdout'), stderr: bool(body.AttachStderr, 'AttachStderr'),
        detachKeys: str(body.DetachKeys, 'DetachKeys') ?? '', running: false, started: false, exitCode: null,
      };
      remember(e);
      sendJson(res, 201, { Id: e.ID });
    },
  },
  {
    method: 'POST', path: /^\/exec\/([^/]+)\/start$/,
    handle: async ({ req, res, params, sink, hijack }) => {
      const e = findExec(params[0]!);
      const body = await readJson(req);
      const detach = bool(body.Detach, 'Detach');
      if (e.started) throw new ApiError(409, `Exec command ${e.ID} is already running`);
      checkRunnable(findContainer(e.rec.Id));
      e.started = true;
      const prepared = await prepareExec(e.rec, e.opts).catch((err: unknown) => {
        e.started = false;
        throw err;
      });
      const spawn = (stdin: boolean): ChildProcess => {
        const child = spawnExec(prepared, stdin);
        [e.child, e.prepared, e.running] = [child, prepared, true];
        return child;
      };
      if (detach) {
        const child = spawn(false);
        child.stdout?.resume();
        child.stderr?.resume();
        void runExec(e, child, undefined, undefined);
        return noContent(res, 200);
      }
      const type = streamType(e.opts.tty);
      // stdin comes only over a hijacked connection (a plain request's body was the JSON)
      const h = hijack(type);
      if (h) {
        await runExec(e, spawn(e.stdin), h.sink, e.stdin ? h.input : undefined);
        h.sink.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': type });
      await runExec(e, spawn(false), sink(type), undefined);
      res.end();
    },
  },
  {
    method: 'GET', path: /^\/exec\/([^/]+)\/json$/,
    handle: ({ res, params }) => sendJson(res, 200, inspectExec(findExec(params[0]!))),
  },
  {
    // the size of a running exec's tty (nothing for one without a tty, as Docker)
    method: 'POST', path: /^\/exec\/([^/]+)\/resize$/,
    handle: ({ res, params, query }) => {
      const e = findExec(params[0]!);
      const [h, w] = querySize(query);
      if (e.opts.tty && e.running && e.child && e.prepared && h && w) resizeExec(e.prepared, e.child, h, w);
      noContent(res, 200);
    },
  },
];
