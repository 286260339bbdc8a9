// The categorical colours of clusters and metadata values (Tableau 10, readable on light and dark
// backgrounds), and a sequential ramp for scores.
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#1f77b4', '#2ca02c'];

/** 16 steps from pale to strong, for scores (low to high). */
export const RAMP = Array.from({ length: 16 }, (_, i) => {
  const t = i / 15;
  const l = 80 - t * 45;
  return `hsl(${220 - t * 200} 75% ${l}%)`;
});
