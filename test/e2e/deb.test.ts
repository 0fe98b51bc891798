/**
 * skiff's Debian package (issue 18), rootful: `apt-get install ./skiff_*.deb` into a clean Debian 12
 * (the debootstrap fixture in a container without a network; apt takes the package's dependencies from
 * the fixtures' local repository of them), the installed executable runs, and `apt-get remove` then
 * `autoremove --purge` leave the file system as it was before the install. A store that holds the
 * user's data (a volume) stays after the removal, as Docker's packages leave /var/lib/docker.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, isRootless, skiff, storeWithImage, type TempStore } from '../helpers/fixtures.js';
import { buildDeb, haveDist } from '../helpers/deb.js';

// what the container runs: every line it prints after "== " is a step the test checks
const SCRIPT = String.raw`set -eu
rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*
echo 'deb [trusted=yes] file:/debs ./' >/etc/apt/sources.list.d/skiff-test.list
apt-get update -qq
# the file system apart from the package manager's own records, caches and logs
snap() { find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache -o -path /var/log -o -path /tmp \) -prune -o -print | sort; }
snap >/tmp/before
apt-get install -y -qq --no-install-recommends /pkg/skiff.deb >/tmp/apt.log 2>&1 || { cat /tmp/apt.log >&2; exit 1; }
echo "== installed $(dpkg-query -W -f='${'$'}{Status}' skiff)"
echo "== deps $(command -v newuidmap pasta | tr '\n' ' ')$(test -x /usr/lib/podman/aardvark-dns && echo aardvark-dns)"
echo "== version $(skiff --version)"
echo "== man $(test -f /usr/share/man/man1/skiff.1.gz && echo yes)"
skiff images -q
echo "== store $(test -d /var/lib/skiff && echo made)"
apt-get remove -y -qq skiff >/tmp/apt.log 2>&1 || { cat /tmp/apt.log >&2; exit 1; }
apt-get autoremove --purge -y -qq >/tmp/apt.log 2>&1 || { cat /tmp/apt.log >&2; exit 1; }
snap >/tmp/after
echo "== left $(diff /tmp/before /tmp/after | grep '^[<>]' | tr '\n' ' ')"
apt-get install -y -qq --no-install-recommends /pkg/skiff.deb >/tmp/apt.log 2>&1 || { cat /tmp/apt.log >&2; exit 1; }
skiff volume create keep >/dev/null
apt-get remove -y -qq skiff >/tmp/apt.log 2>&1 || { cat /tmp/apt.log >&2; exit 1; }
echo "== kept $(ls /var/lib/skiff/volumes) $(test -e /usr/bin/skiff && echo /usr/bin/skiff || echo no-skiff)"
`;

describe('the Debian package', { skip: isRootless() ? 'the package is built and installed as root' : !haveDist() && '`make dist` not run: no executable to package' }, () => {
  let store: TempStore;
  let image: string;
  let tmp: string;
  before(async () => {
    ({ store, image } = await storeWithImage('debian'));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-deb-'));
  });
  after(async () => {
    await store?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('apt-get install ./skiff_*.deb into a clean Debian 12 works; remove and autoremove --purge leave nothing; a store with data stays', async () => {
    const { deb } = buildDeb(tmp);
    const pkg = path.join(tmp, 'pkg');
    fs.mkdirSync(pkg);
    fs.copyFileSync(deb, path.join(pkg, 'skiff.deb'));
    fs.writeFileSync(path.join(tmp, 'script.sh'), SCRIPT);
    const r = await skiff(
      ['run', '--rm', '--network', 'none', '-v', `${fixtures().debs}:/debs:ro`, '-v', `${pkg}:/pkg:ro`, '-v', `${tmp}/script.sh:/script.sh:ro`, image, 'bash', '/script.sh'],
      { store },
    );
    assert.equal(r.code, 0, r.stderr);
    const steps = Object.fromEntries(
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith('== '))
        .map((l) => {
          const [k, ...v] = l.slice(3).split(' ');
          return [k, v.join(' ').trim()];
        }),
    );
    assert.equal(steps.installed, 'install ok installed', r.stdout);
    assert.equal(steps.deps, '/usr/bin/newuidmap /usr/bin/pasta aardvark-dns', r.stdout);
    assert.match(steps.version ?? '', /^skiff version \d+\.\d+\.\d+, build [0-9a-f]{12}$/, r.stdout);
    assert.equal(steps.man, 'yes');
    assert.equal(steps.store, 'made');
    assert.equal(steps.left, '', `left behind after apt-get remove and autoremove --purge: ${steps.left}`);
    assert.equal(steps.kept, 'keep no-skiff', r.stdout);
  });
});
