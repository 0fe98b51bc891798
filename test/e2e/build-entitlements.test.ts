/**
 * `build --allow`: BuildKit's entitlements. RUN --security=insecure is refused without
 * `--allow security.insecure` and runs as `run --privileged` with it; the security mode is part of
 * the step's cache key. Runs rootful and rootless.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSuite } from '../helpers/build.js';

describe('build --allow', () => {
  const b = buildSuite('skiff-allow-ctx-');
  const { ctx, sk } = b;
  const caps = "grep ^CapEff: /proc/self/status | awk '{print $2}'";

  test('RUN --security=insecure: refused without --allow security.insecure, privileged with it', async () => {
    const dir = ctx({
      'Dockerfile': `FROM ${b.busybox}
RUN --security=sandbox ${caps} > /caps-sandbox
RUN --security=insecure ${caps} > /caps && mkdir /m && mount -t tmpfs none /m && grep -q ' /m tmpfs ' /proc/mounts && echo mounted > /mounted
`,
    });
    const no = await sk(['build', '-t', 'allow/insecure', dir]);
    assert.equal(no.code, 125, no.stderr);
    assert.match(no.stderr, /\nError: Dockerfile:3: RUN: security\.insecure is not allowed \(pass --allow security\.insecure\)\n$/);
    assert.notEqual((await sk(['image', 'inspect', 'allow/insecure'])).code, 0, 'no image after a refused step');
    const r = await sk(['build', '-q', '--allow', 'network.host', '--allow', 'security.insecure', '-t', 'allow/insecure', dir]);
    assert.equal(r.code, 0, r.stderr);
    const priv = await sk(['run', '--rm', '--privileged', b.busybox, 'sh', '-c', caps]);
    assert.equal(priv.code, 0, priv.stderr);
    const dflt = await sk(['run', '--rm', b.busybox, 'sh', '-c', caps]);
    const out = await sk(['run', '--rm', 'allow/insecure', 'cat', '/caps', '/caps-sandbox', '/mounted']);
    assert.equal(out.code, 0, out.stderr);
    // the insecure step had run --privileged's capabilities, the sandbox one run's defaults
    assert.equal(out.stdout, `${priv.stdout}${dflt.stdout}mounted\n`);
    assert.notEqual(priv.stdout, dflt.stdout);
  });

  test('the security mode is part of the cache key; --allow takes known entitlements only', async () => {
    const insecure = ctx({ 'Dockerfile': `FROM ${b.busybox}\nRUN --security=insecure ${caps} > /caps\n` });
    const sandbox = ctx({ 'Dockerfile': `FROM ${b.busybox}\nRUN ${caps} > /caps\n` });
    const a = await sk(['build', '--allow', 'security.insecure', '-t', 'allow/a', insecure]);
    assert.equal(a.code, 0, a.stderr);
    const s = await sk(['build', '--allow', 'security.insecure', '-t', 'allow/s', sandbox]);
    assert.equal(s.code, 0, s.stderr);
    assert.doesNotMatch(s.stderr, /Using cache/, 'the sandbox step is not the insecure one\'s');
    const again = await sk(['build', '--allow', 'security.insecure', '-t', 'allow/a2', insecure]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Using cache/);
    const ca = await sk(['run', '--rm', 'allow/a', 'cat', '/caps']);
    const cs = await sk(['run', '--rm', 'allow/s', 'cat', '/caps']);
    assert.notEqual(ca.stdout, cs.stdout);
    const bad = await sk(['build', '--allow', 'security.bogus', '-t', 'allow/bad', sandbox]);
    assert.equal(bad.code, 125);
    assert.equal(bad.stderr, 'Error: invalid value "security.bogus" for --allow: unknown entitlement security.bogus\n');
  });
});
