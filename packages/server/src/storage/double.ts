/**
 * Doubles as g_ascii_dtostr writes them (printf "%.17g", C locale), which is how infinoted writes
 * hues on the wire and on disk: 0.25 -> "0.25", 0.6 -> "0.59999999999999998".
 */
export function formatDouble(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  const e = Number(x.toExponential(16).split('e')[1]);
  const useExp = (Number.isFinite(exp) ? e : exp) < -4 || e >= 17;
  if (useExp) {
    const [mant, ex] = x.toExponential(16).split('e') as [string, string];
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const n = Number(ex);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const fixed = x.toFixed(Math.max(0, 16 - e));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
