/** The seed of a seeded test (TANDEM_SEED, else `fallback`), printed so that a failure can be repeated. */
export function testSeed(fallback: number): number {
  const seed = Number(process.env.TANDEM_SEED ?? fallback);
  console.log(`      seed ${seed} (TANDEM_SEED=${seed} to repeat)`);
  return seed;
}

/** A xorshift32 generator: rnd(n) is an integer in [0, n). */
export function seededRandom(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number): number => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % n;
  };
}
