/**
 * Typed Dockerfile instructions: stages and meta ARGs, per-instruction arguments and flags as
 * BuildKit's instructions package parses them, error messages naming file, line and instruction,
 * and dispatch-time expansion.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SkiffError } from '../../src/errors.js';
import { parseDockerfile } from '../../src/builder/dockerfile/parser.js';
import {
  expandCommand, HEALTHCHECK_DEFAULTS, loadDockerfile, parseInstructions, parseMount, parseTrigger,
  type AddCommand, type ArgCommand, type Command, type CopyCommand, type EnvCommand, type ExposeCommand,
  type HealthcheckCommand, type RunCommand,
} from '../../src/builder/dockerfile/instructions.js';

/** assert.throws matching the SkiffError's message (not `SkiffError: ...`). */
function throwsMsg(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SkiffError, String(e));
    assert.match(e.message, re);
    return true;
  });
}

function cmds(text: string): Command[] {
  return loadDockerfile(text, 'Dockerfile').stages.flatMap((s) => s.commands);
}
function one<T extends Command>(line: string): T {
  return cmds(`FROM scratch\n${line}\n`)[0] as T;
}
function fails(text: string, re: RegExp): void {
  assert.throws(() => loadDockerfile(text, 'Dockerfile'), (e: unknown) => {
    assert.ok(e instanceof SkiffError, String(e));
    assert.equal(e.code, 'EINVAL');
    assert.match(e.message, re);
    return true;
  });
}

test('stages, names, platform and meta ARGs', () => {
  const text = [
    '# syntax=docker/dockerfile:1',
    'ARG BASE=alpine',
    'ARG TAG',
    '# builder compiles things',
    'FROM --platform=$BUILDPLATFORM ${BASE}:${TAG:-3} AS Builder',
    'RUN make',
    'FROM scratch',
    'COPY --from=builder /out /',
  ].join('\n');
  const stages = parseInstructions(parseDockerfile(text, 'Dockerfile').ast, 'Dockerfile');
  assert.equal(stages.length, 2);
  assert.deepEqual(stages.metaArgs.map((a) => a.args), [
    [{ name: 'BASE', default: 'alpine', docComment: '' }],
    [{ name: 'TAG', docComment: '' }],
  ]);
  const [b, s] = stages;
  assert.equal(b!.name, 'builder');
  assert.equal(b!.baseName, '${BASE}:${TAG:-3}');
  assert.equal(b!.platform, '$BUILDPLATFORM');
  assert.equal(b!.docComment, 'compiles things');
  assert.deepEqual(b!.location, { file: 'Dockerfile', startLine: 5, endLine: 5 });
  assert.equal(b!.commands[0]!.kind, 'RUN');
  assert.equal(s!.name, '');
  assert.equal((s!.commands[0] as CopyCommand).from, 'builder');
});

test('RUN: shell and exec form, mounts, network, security, heredocs', () => {
  const r = one<RunCommand>('RUN --mount=type=cache,target=/root/.cache,sharing=locked,id=pip --mount=type=secret,id=tok,env=TOKEN,required --network=none pip install x');
  assert.deepEqual(r.cmd, ['pip install x']);
  assert.equal(r.shell, true);
  assert.equal(r.network, 'none');
  assert.equal(r.security, 'sandbox');
  assert.deepEqual(r.mounts, [
    { type: 'cache', from: '', source: '', target: '/root/.cache', readonly: false, sizeLimit: 0, id: 'pip', sharing: 'locked', required: false },
    { type: 'secret', from: '', source: '', target: '', readonly: true, sizeLimit: 0, id: 'tok', sharing: '', required: true, env: 'TOKEN' },
  ]);
  assert.deepEqual(r.flagsUsed.sort(), ['mount', 'network']);
  const e = one<RunCommand>('RUN ["echo", "a b"]');
  assert.deepEqual([e.cmd, e.shell, e.network, e.mounts], [['echo', 'a b'], false, 'default', []]);
  const h = cmds('FROM a\nRUN <<-EOF bash\n\techo hi\nEOF\n')[0] as RunCommand;
  assert.deepEqual(h.cmd, ['<<-EOF bash']);
  assert.deepEqual(h.heredocs, [{ name: 'EOF', data: '\techo hi\n', chomp: true, expand: true, fileDescriptor: 0 }]);
  const t = one<RunCommand>('RUN --mount=type=tmpfs,target=/t,size=64m --mount=type=bind,from=ctx,src=a,dst=/b,rw true');
  assert.equal(t.mounts[0]!.sizeLimit, 64 * 1024 * 1024);
  assert.deepEqual([t.mounts[1]!.from, t.mounts[1]!.source, t.mounts[1]!.target, t.mounts[1]!.readonly], ['ctx', 'a', '/b', false]);
});

test('RUN flag and mount errors name file, line and instruction', () => {
  fails('FROM a\n\nRUN --networks=host x\n', /^Dockerfile:3: RUN: unknown flag: --networks \(did you mean network\?\)$/);
  fails('FROM a\nRUN --network=bridge x\n', /^Dockerfile:2: RUN: invalid network mode "bridge"$/);
  fails('FROM a\nRUN --mount=type=cash,target=/x x\n', /^Dockerfile:2: RUN: unsupported mount type "cash" \(did you mean cache\?\)$/);
  fails('FROM a\nRUN --mount=type=cache,target=/x,sharing=private,mode=0700,bogus=1 x\n', /^Dockerfile:2: RUN: unexpected key 'bogus' in 'bogus=1'$/);
  fails('FROM a\nRUN --mount=type=bind,target=/x,uid=1 x\n', /^Dockerfile:2: RUN: uid not allowed for "bind" type mounts$/);
  fails('FROM a\nRUN --mount=type=secret x\n', /^Dockerfile:2: RUN: invalid secret mount. one of source, target required$/);
  fails('FROM a\nRUN --mount=type=bind,target=/x,sharing=shared x\n', /^Dockerfile:2: RUN: invalid cache sharing set for bind mount$/);
  fails('FROM a\nRUN --mount=type=bind,from=$X/y,target=/x x\n', /^Dockerfile:2: RUN: 'from' doesn't support variable expansion/);
  fails('FROM a\nRUN --network x\n', /^Dockerfile:2: RUN: missing a value on flag: --network$/);
  fails('FROM a\nRUN --network=host --network=none x\n', /^Dockerfile:2: RUN: duplicate flag specified: --network$/);
});

test('mounts with variables are validated once expanded', () => {
  const r = one<RunCommand>('RUN --mount=type=$T,target=${DIR}/cache,id=$ID make');
  assert.equal(r.mounts[0]!.type, 'bind'); // not known yet
  const x = expandCommand(r, { T: 'cache', DIR: '/w', ID: 'c1' });
  assert.deepEqual([x.mounts[0]!.type, x.mounts[0]!.target, x.mounts[0]!.id, x.mounts[0]!.readonly], ['cache', '/w/cache', 'c1', false]);
  throwsMsg(() => expandCommand(r, { T: 'nfs' }), /^Dockerfile:2: RUN: unsupported mount type "nfs"$/);
  assert.equal(parseMount('type=cache,target=/x,mode=0755,uid=1000', (w) => w).mode, 0o755);
});

test('COPY / ADD: flags, JSON form, heredoc sources', () => {
  const c = one<CopyCommand>('COPY --from=build --chown=1:2 --chmod=644 --link --exclude=*.md --exclude=x --parents a b /dst/');
  assert.deepEqual(
    [c.sources, c.dest, c.from, c.chown, c.chmod, c.link, c.parents, c.excludes],
    [['a', 'b'], '/dst/', 'build', '1:2', '644', true, true, ['*.md', 'x']],
  );
  const j = one<CopyCommand>('COPY ["a b", "/c d/"]');
  assert.deepEqual([j.sources, j.dest], [['a b'], '/c d/']);
  const a = one<AddCommand>('ADD --keep-git-dir=false --checksum=sha256:abc --unpack https://x/y.tgz /z');
  assert.deepEqual([a.keepGitDir, a.checksum, a.unpack, a.link], [false, 'sha256:abc', true, false]);
  assert.equal(one<AddCommand>('ADD a b').keepGitDir, undefined);
  const h = cmds("FROM a\nCOPY <<-EOF <<'RAW' x /dest/\n\thello $N\nEOF\n$N\nRAW\n")[0] as CopyCommand;
  assert.deepEqual(h.sources, ['x']);
  assert.deepEqual(h.heredocs, [
    { path: 'EOF', data: 'hello $N\n', expand: true },
    { path: 'RAW', data: '$N\n', expand: false },
  ]);
  const x = expandCommand(h, { N: '"n"' });
  assert.deepEqual(x.heredocs.map((d) => d.data), ['hello "n"\n', '$N\n']);
  fails('FROM a\nCOPY onlyone\n', /^Dockerfile:2: COPY: COPY requires at least two arguments, but only one was provided/);
  fails('FROM a\nCOPY a <<EOF\nx\nEOF\n', /^Dockerfile:2: COPY: COPY cannot accept a heredoc as a destination$/);
  fails('FROM a\nCOPY --from=$STAGE a b\n', /^Dockerfile:2: COPY: variable expansion is not supported for --from/);
  fails('FROM a\nADD --from=x a b\n', /^Dockerfile:2: ADD: unknown flag: --from$/);
  fails('FROM a\nCOPY --link=maybe a b\n', /^Dockerfile:2: COPY: expecting boolean value for flag --link, not: maybe$/);
});

test('ENV / LABEL / ARG', () => {
  const e = one<EnvCommand>('ENV A=1 B="x y" C=a\\ b');
  assert.deepEqual(e.pairs, [
    { key: 'A', value: '1', noDelim: false },
    { key: 'B', value: '"x y"', noDelim: false },
    { key: 'C', value: 'a\\ b', noDelim: false },
  ]);
  assert.deepEqual(expandCommand(e, {}).pairs.map((p) => p.value), ['1', 'x y', 'a b']);
  assert.deepEqual(one<EnvCommand>('ENV OLD some value').pairs, [{ key: 'OLD', value: 'some value', noDelim: true }]);
  const a = one<ArgCommand>('ARG a b=c d=');
  assert.deepEqual(a.args.map((x) => [x.name, x.default]), [['a', undefined], ['b', 'c'], ['d', '']]);
  fails('FROM a\nARG =x\n', /^Dockerfile:2: ARG: ARG names can not be blank$/);
  fails('FROM a\nENV =x\n', /^Dockerfile:2: ENV: ENV names can not be blank$/);
  fails('FROM a\nARG\n', /^Dockerfile:2: ARG: ARG requires at least one argument$/);
  fails('FROM a\nLABEL\n', /^Dockerfile:2: LABEL: LABEL requires at least one argument$/);
});

test('CMD / ENTRYPOINT / SHELL / simple instructions', () => {
  const [cmd, ep, ep0, sh, user, wd, sig, vol, maint, exp] = cmds([
    'FROM a', 'CMD echo "hi"', 'ENTRYPOINT ["/bin/app", "-v"]', 'ENTRYPOINT []', 'SHELL ["/bin/bash", "-c"]',
    'USER app:app', 'WORKDIR /srv/$APP', 'STOPSIGNAL SIGINT', 'VOLUME /a /b', 'MAINTAINER me <me@x>', 'EXPOSE 8080/tcp 53/udp 80',
  ].join('\n'));
  assert.deepEqual([cmd!.kind, (cmd as { cmd: string[] }).cmd, (cmd as { shell: boolean }).shell], ['CMD', ['echo "hi"'], true]);
  assert.deepEqual([(ep as { cmd: string[] }).cmd, (ep as { shell: boolean }).shell], [['/bin/app', '-v'], false]);
  assert.deepEqual((ep0 as { cmd: string[] }).cmd, []);
  assert.deepEqual((sh as { shell: string[] }).shell, ['/bin/bash', '-c']);
  assert.equal((user as { user: string }).user, 'app:app');
  assert.equal((wd as { path: string }).path, '/srv/$APP');
  assert.equal(expandCommand(wd!, { APP: 'x' }).kind === 'WORKDIR' && (expandCommand(wd!, { APP: 'x' }) as { path: string }).path, '/srv/x');
  assert.equal((sig as { signal: string }).signal, 'SIGINT');
  assert.deepEqual((vol as { volumes: string[] }).volumes, ['/a', '/b']);
  assert.equal((maint as { maintainer: string }).maintainer, 'me <me@x>');
  assert.deepEqual((exp as ExposeCommand).ports, ['53/udp', '80', '8080/tcp']);
  assert.deepEqual(expandCommand(one<ExposeCommand>('EXPOSE $PORTS'), { PORTS: '80 443/tcp' }).ports, ['80', '443/tcp']);
  fails('FROM a\nSHELL /bin/bash -c\n', /^Dockerfile:2: SHELL: SHELL requires the arguments to be in JSON form$/);
  fails('FROM a\nUSER\n', /^Dockerfile:2: USER: USER requires exactly one argument$/);
  assert.equal(one<Command & { user: string }>('USER a b').user, 'a b');
  fails('FROM a\nWORKDIR\n', /^Dockerfile:2: WORKDIR: WORKDIR requires exactly one argument$/);
  fails('FROM a\nVOLUME [""]\n', /^Dockerfile:2: VOLUME: VOLUME specified can not be an empty string$/);
  fails('FROM a\nEXPOSE\n', /^Dockerfile:2: EXPOSE: EXPOSE requires at least one argument$/);
  fails('FROM a\nUSER --foo x\n', /^Dockerfile:2: USER: unknown flag: --foo$/);
});

test('HEALTHCHECK: CMD, CMD-SHELL, NONE, durations and defaults', () => {
  const h = one<HealthcheckCommand>('HEALTHCHECK --interval=5s --timeout=1m30s --start-period=100ms --start-interval=2s --retries=4 CMD curl -f http://x/');
  assert.deepEqual(
    [h.test, h.interval, h.timeout, h.startPeriod, h.startInterval, h.retries],
    [['CMD-SHELL', 'curl -f http://x/'], 5e9, 90e9, 1e8, 2e9, 4],
  );
  const j = one<HealthcheckCommand>('HEALTHCHECK CMD ["/bin/check", "--fast"]');
  assert.deepEqual([j.test, j.interval, j.retries], [['CMD', '/bin/check', '--fast'], 0, 0]);
  assert.deepEqual(one<HealthcheckCommand>('HEALTHCHECK none').test, ['NONE']);
  assert.equal(HEALTHCHECK_DEFAULTS.interval, 30e9);
  assert.equal(HEALTHCHECK_DEFAULTS.retries, 3);
  fails('FROM a\nHEALTHCHECK NONE x\n', /^Dockerfile:2: HEALTHCHECK: HEALTHCHECK NONE takes no arguments$/);
  fails('FROM a\nHEALTHCHECK CMD\n', /^Dockerfile:2: HEALTHCHECK: Missing command after HEALTHCHECK CMD$/);
  fails('FROM a\nHEALTHCHECK CONNECT TCP 7000\n', /^Dockerfile:2: HEALTHCHECK: Unknown type "CONNECT" in HEALTHCHECK \(try CMD\)$/);
  fails('FROM a\nHEALTHCHECK --interval=1us CMD x\n', /^Dockerfile:2: HEALTHCHECK: Interval "interval" cannot be less than 1ms$/);
  fails('FROM a\nHEALTHCHECK --timeout=5 CMD x\n', /^Dockerfile:2: HEALTHCHECK: time: missing unit in duration "5"$/);
  fails('FROM a\nHEALTHCHECK --retries=-1 CMD x\n', /^Dockerfile:2: HEALTHCHECK: --retries cannot be negative \(-1\)$/);
  fails('FROM a\nHEALTHCHECK\n', /^Dockerfile:2: HEALTHCHECK: HEALTHCHECK requires at least one argument$/);
});

test('ONBUILD: expression kept for the image config; forbidden triggers', () => {
  const [o, h] = cmds('FROM a\nONBUILD RUN echo "$X"\nonbuild COPY <<EOF /x\nhi\nEOF\n');
  assert.deepEqual([o!.kind, (o as { expression: string }).expression], ['ONBUILD', 'RUN echo "$X"']);
  assert.equal((h as { expression: string }).expression, 'COPY <<EOF /x\nhi\nEOF');
  const t = parseTrigger((h as { expression: string }).expression, 'ONBUILD');
  assert.equal(t.kind, 'COPY');
  assert.deepEqual((t as CopyCommand).heredocs, [{ path: 'EOF', data: 'hi\n', expand: true }]);
  fails('FROM a\nONBUILD ONBUILD RUN x\n', /^Dockerfile:2: ONBUILD: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed$/);
  fails('FROM a\nONBUILD FROM x\n', /^Dockerfile:2: ONBUILD: FROM isn't allowed as an ONBUILD trigger$/);
  fails('FROM a\nONBUILD MAINTAINER x\n', /^Dockerfile:2: ONBUILD: MAINTAINER isn't allowed as an ONBUILD trigger$/);
  fails('FROM a\nONBUILD\n', /^Dockerfile:2: ONBUILD: ONBUILD requires at least one argument$/);
});

test('FROM errors, unknown instructions, instructions before FROM', () => {
  fails('FROM a AS 1x\n', /^Dockerfile:1: FROM: invalid name for build stage: "1x", name can't start with a number or contain symbols$/);
  fails('FROM a b\n', /^Dockerfile:1: FROM: FROM requires either one or three arguments$/);
  fails('FROM --plaform=linux/amd64 a\n', /^Dockerfile:1: FROM: unknown flag: --plaform \(did you mean platform\?\)$/);
  fails('FROM a\n\n\nFOO bar\n', /^Dockerfile:4: FOO: unknown instruction: FOO \(did you mean FROM\?\)$/);
  fails('FROM a\nXYZZY x\n', /^Dockerfile:2: XYZZY: unknown instruction: XYZZY$/);
  fails('FROM a\nRUNN x\n', /^Dockerfile:2: RUNN: unknown instruction: RUNN \(did you mean RUN\?\)$/);
  fails('FROM a\ncopyy x y\n', /^Dockerfile:2: COPYY: unknown instruction: copyy \(did you mean copy\?\)$/);
  fails('ARG x\nRUN echo\nFROM a\n', /^Dockerfile:2: RUN: no build stage in current context$/);
  // expansion problems surface at dispatch (expandCommand), not while parsing
  assert.equal(cmds('FROM a\nWORKDIR ${X\n')[0]!.kind, 'WORKDIR');
});

test('expansion errors name file, line and instruction', () => {
  const w = cmds('FROM a\n\nWORKDIR ${X\n')[0]!;
  throwsMsg(() => expandCommand(w, {}), /^Dockerfile:3: WORKDIR: failed to process "\$\{X": unsupported modifier \(\ufffd\) in substitution$/);
  const c = cmds('FROM a\nCOPY --chown=$U:${G:-staff} "$SRC" /d/\n')[0] as CopyCommand;
  const x = expandCommand(c, ['U=app', 'SRC=a b']);
  assert.deepEqual([x.chown, x.sources, x.dest], ['app:staff', ['a b'], '/d/']);
  assert.equal(c.chown, '$U:${G:-staff}', 'the original is not modified');
  // --exclude patterns are words too (dockerfile 1.7+)
  const ex = cmds('FROM a\nCOPY --exclude=*.$EXT --exclude=${D:-tmp}/ . /d/\n')[0] as CopyCommand;
  assert.deepEqual(expandCommand(ex, ['EXT=md']).excludes, ['*.md', 'tmp/']);
  const e = cmds('# escape=`\nFROM a\nENV P=C:\\dir`$X\n')[0] as EnvCommand;
  assert.equal(expandCommand(e, { X: 'y' }, '`').pairs[0]!.value, 'C:\\dir$X');
});

test('loadDockerfile returns AST, warnings, directives and stages together', () => {
  const d = loadDockerfile('# check=error=true\nFROM a\nRUN x \\\n\n y\n', 'Dockerfile');
  assert.equal(d.warnings.length, 1);
  assert.equal(d.directives[0]!.name, 'check');
  assert.equal(d.stages[0]!.commands.length, 1);
  assert.equal(d.escapeToken, '\\');
});

test('a NUL byte in an expanded argument fails the instruction (file, line, what); heredoc content may hold one', () => {
  throwsMsg(() => expandCommand(one<EnvCommand>('ENV A=x\0y'), {}), /^Dockerfile:2: ENV: the value of "A" holds a NUL byte/);
  throwsMsg(() => expandCommand(one<EnvCommand>('ENV A=$V'), { V: 'a\0b' }), /^Dockerfile:2: ENV: the value of "A" holds a NUL byte/);
  throwsMsg(() => expandCommand(one('LABEL "k\0"=v'), {}), /^Dockerfile:2: LABEL: a name holds a NUL byte/);
  throwsMsg(() => expandCommand(one<ArgCommand>('ARG A=$V'), { V: '\0' }), /^Dockerfile:2: ARG: the default of "A" holds a NUL byte/);
  throwsMsg(() => expandCommand(one('WORKDIR /a$V'), { V: '\0' }), /^Dockerfile:2: WORKDIR: an argument holds a NUL byte/);
  throwsMsg(() => expandCommand(one('USER $V'), { V: 'u\0' }), /^Dockerfile:2: USER: an argument/);
  throwsMsg(() => expandCommand(one('CMD ["a\\u0000b"]'), {}), /^Dockerfile:2: CMD: an argument holds a NUL byte/);
  throwsMsg(() => expandCommand(one<RunCommand>('RUN echo \0'), {}), /^Dockerfile:2: RUN: an argument/);
  throwsMsg(() => expandCommand(one<CopyCommand>('COPY a /b$V'), { V: '\0' }), /^Dockerfile:2: COPY: an argument/);
  const h = cmds('FROM scratch\nCOPY <<EOF /f\na\0b\nEOF\n')[0] as CopyCommand;
  assert.equal(expandCommand(h, {}).heredocs[0]!.data, 'a\0b\n');
});

test('expansion is bounded per instruction: doubling a variable stops with an error, ordinary values pass', () => {
  const env = new Map<string, string>([['X', 'x']]);
  const e = one<EnvCommand>('ENV X=$X$X');
  let err: unknown;
  let rounds = 0;
  try {
    for (; rounds < 40; rounds++) env.set('X', expandCommand(e, env).pairs[0]!.value);
  } catch (x) {
    err = x;
  }
  assert.ok(err instanceof SkiffError, 'no error after 40 doublings');
  assert.match(err.message, /^Dockerfile:2: ENV: failed to process "\$X\$X": the expansion is larger than 1048576 characters/);
  assert.equal(rounds, 20); // 2^20 characters pass, the 21st doubling does not
  // the bound counts what variables add to the whole instruction, not its own text
  const big = 'y'.repeat(600_000);
  throwsMsg(() => expandCommand(one<EnvCommand>('ENV A=$B C=$B'), { B: big }), /larger than 1048576/);
  const text = 'z'.repeat(60_000);
  assert.equal(expandCommand(one<EnvCommand>(`ENV A=${text}$B`), { B: 'b'.repeat(1_000_000) }).pairs[0]!.value.length, 1_060_000);
  // ${X//a/$R} multiplies: checked as it grows
  throwsMsg(() => expandCommand(one<EnvCommand>('ENV A=${X//a/$R}'), { X: 'a'.repeat(5000), R: 'r'.repeat(5000) }), /larger than 1048576/);
});
