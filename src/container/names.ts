/** Docker-style generated names: adjective_surname. */
import crypto from 'node:crypto';

const LEFT = ['admiring', 'brave', 'clever', 'dazzling', 'eager', 'focused', 'gallant', 'happy', 'jolly', 'keen',
  'lucid', 'modest', 'nifty', 'optimistic', 'peaceful', 'quirky', 'relaxed', 'serene', 'tender', 'upbeat',
  'vibrant', 'wizardly', 'xenodochial', 'youthful', 'zealous', 'amazing', 'bold', 'charming', 'determined', 'elated'];
const RIGHT = ['albattani', 'babbage', 'curie', 'darwin', 'euclid', 'fermat', 'galileo', 'hopper', 'johnson', 'kepler',
  'lovelace', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'turing', 'volta',
  'wozniak', 'yalow', 'zhukovsky', 'archimedes', 'bohr', 'cori', 'dijkstra', 'einstein', 'feynman', 'goldberg'];

/** `attempt`: how many names were refused already (from the 10th on, a digit is added). */
export function generateName(taken: Set<string> = new Set(), attempt = 0): string {
  for (let i = attempt; ; i++) {
    const l = LEFT[crypto.randomInt(LEFT.length)]!;
    const r = RIGHT[crypto.randomInt(RIGHT.length)]!;
    const name = i < 10 ? `${l}_${r}` : `${l}_${r}${crypto.randomInt(10)}`;
    if (!taken.has(name)) return name;
  }
}

export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function newContainerId(): string {
  return crypto.randomBytes(32).toString('hex');
}
