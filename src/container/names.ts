/** Docker-style generated names: adjective_surname. */
import { randomInt } from '../lib/random.js';

const LEFT = ['admiring', 'brave', 'clever', 'dazzling', 'eager', 'focused', 'gallant', 'happy', 'jolly', 'keen',
  'lucid', 'modest', 'nifty', 'optimistic', 'peaceful', 'quirky', 'relaxed', 'serene', 'tender', 'upbeat',
  'vibrant', 'wizardly', 'xenodochial', 'youthful', 'zealous', 'amazing', 'bold', 'charming', 'determined', 'elated'];
const RIGHT = ['albattani', 'babbage', 'curie', 'darwin', 'euclid', 'fermat', 'galileo', 'hopper', 'johnson', 'kepler',
  'lovelace', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'turing', 'volta',
  'wozniak', 'yalow', 'zhukovsky', 'archimedes', 'bohr', 'cori', 'dijkstra', 'einstein', 'feynman', 'goldberg'];

/**
 * A Docker-style name; the names index (store/containers.ts) decides whether it is free, and the
 * creator asks again with `attempt` = how many were refused (from the 10th on, a digit is added).
 */
export function generateName(attempt = 0): string {
  const l = LEFT[randomInt(LEFT.length)]!;
  const r = RIGHT[randomInt(RIGHT.length)]!;
  return attempt < 10 ? `${l}_${r}` : `${l}_${r}${randomInt(10)}`;
}

export { NAME_RE, newId as newContainerId } from '../lib/ids.js';
