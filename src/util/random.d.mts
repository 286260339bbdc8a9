/** mulberry32: a seeded PRNG giving uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number;
