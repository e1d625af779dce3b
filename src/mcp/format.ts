/** US dollars with cents, or more digits for sub-cent amounts ($0.0042). */
export function usd(n: number): string {
  if (!Number.isFinite(n)) return '$—';
  const abs = Math.abs(n);
  const digits = abs === 0 || abs >= 1 ? 2 : abs >= 0.01 ? 3 : 4;
  return `${n < 0 ? '-' : ''}$${abs.toFixed(digits)}`;
}
