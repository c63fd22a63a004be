/**
 * exp and tanh for the sampled kernels of the factor-form engine (src/skeleton/factor.ts), where
 * σ(p), σ′(p) are evaluated for every sample, stage and data point and V8's Math.tanh / Math.exp
 * (fdlibm ports, ≈ 26 / 13 ns on this machine) were a third of a solve's time.
 *
 * fastExp: x = k·ln2/32 + r with |r| ≤ ln2/64 (Cody–Waite split of ln2/32, so k·L1 is exact), on (−708.3, 709) (Math.exp outside),
 * e^x = 2^(k>>5) · 2^((k&31)/32) · P(r), P the degree-7 Taylor polynomial (truncation ≤ 4e-19
 * relative), both powers of two from tables. Measured: ≤ 2 ulp from Math.exp on [−708, 709]
 * (test/fastmath.test.ts); ≈ 6 ns.
 *
 * fastTanh: tanh|x| = 1 − 2/(e^{2|x|} + 1) with fastExp, and the Taylor polynomial to x⁹ for
 * |x| < 2^-6 (where the quotient would lose relative accuracy); |x| ≥ 22 gives ±1 (tanh 22 = 1 in
 * double precision). Absolute error ≤ 4.5e-16 everywhere, relative ≤ 3e-14 (test/fastmath.test.ts);
 * ≈ 11 ns. NaN in, NaN out; ±Infinity gives ±1, as Math.tanh.
 */

const L1 = 6.93147180369123816490e-01 / 32; // ln2_hi/32: 32 significant bits, so k·L1 is exact for |k| < 2^21
const L2 = 1.90821492927058770002e-10 / 32; // ln2_lo/32
const INV = 32 / Math.LN2;
/** Round-to-nearest-integer by the 1.5·2^52 trick (exact for |v| < 2^51). */
const MAGIC = 6755399441055744.0;
const T32 = new Float64Array(32);
for (let j = 0; j < 32; j++) T32[j] = Math.pow(2, j / 32);
/** 2^m for m = −1022 … 1023 at index m + 1022 (normal numbers only). */
const POW2 = new Float64Array(2046);
for (let m = -1022; m <= 1023; m++) POW2[m + 1022] = Math.pow(2, m);

/** e^x to ≤ 2 ulp on (−708.3, 709); Math.exp outside (NaN, ±Infinity, the subnormal range). */
export function fastExp(x: number): number {
  if (!(x > -708.3 && x < 709)) {
    // NaN, overflow and the edges (where 2^(k>>5) leaves the table): rare, left to the library
    return Math.exp(x);
  }
  const kf = (x * INV + MAGIC) - MAGIC;
  const k = kf | 0;
  const r = (x - kf * L1) - kf * L2;
  const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040)))))));
  return T32[k & 31] * p * POW2[(k >> 5) + 1022];
}

/** tanh x to 4.5e-16 absolute and 3e-14 relative (see the module comment). */
export function fastTanh(x: number): number {
  const ax = x < 0 ? -x : x;
  if (ax < 0.015625) {
    // tanh x = x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 − …; the next term is < 1.3e-21 |x| here
    const z = x * x;
    return x * (1 + z * (-1 / 3 + z * (2 / 15 + z * (-17 / 315 + z * (62 / 2835)))));
  }
  if (!(ax < 22)) return ax === ax ? (x > 0 ? 1 : -1) : NaN;
  const t = 1 - 2 / (fastExp(2 * ax) + 1);
  return x < 0 ? -t : t;
}

// erf: the rational minimax approximations of fdlibm's s_erf.c (Sun Microsystems, freely
// redistributable), evaluated here with fastExp and without fdlibm's split of x² (which costs
// ≤ 36 · 2^-53 relative in erfc for |x| < 6, i.e. < 1e-16 absolute in erf).
const PP = [1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02, -5.77027029648944159157e-03, -2.37630166566501626084e-05];
const QQ = [3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03, 1.32494738004321644526e-04, -3.96022827877536812320e-06];
const PA = [-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01, 3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02, -2.16637559486879084300e-03];
const QA = [1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02, 1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02];
const RA = [-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01, -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02, -8.12874355063065934246e+01, -9.81432934416914548592e+00];
const SA = [1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02, 6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02, 6.57024977031928170135e+00, -6.04244152148580987438e-02];
const RB = [-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01, -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03, -4.83519191608651397019e+02];
const SB = [3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03, 3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02, -2.24409524465858183362e+01];
const [pp0, pp1, pp2, pp3, pp4] = PP, [qq1, qq2, qq3, qq4, qq5] = QQ;
const [pa0, pa1, pa2, pa3, pa4, pa5, pa6] = PA, [qa1, qa2, qa3, qa4, qa5, qa6] = QA;
const [ra0, ra1, ra2, ra3, ra4, ra5, ra6, ra7] = RA, [sa1, sa2, sa3, sa4, sa5, sa6, sa7, sa8] = SA;
const [rb0, rb1, rb2, rb3, rb4, rb5, rb6] = RB, [sb1, sb2, sb3, sb4, sb5, sb6, sb7] = SB;
/** erf(0.84375…1.25) = erx + P/Q(|x| − 1). */
const ERX = 8.45062911510467529297e-01;

/** erf x to ≤ 3e-16 absolute (test/fastmath.test.ts); ±1 from |x| ≥ 6; NaN for NaN. */
export function fastErf(x: number): number {
  const ax = x < 0 ? -x : x;
  let r: number;
  if (ax < 0.84375) {
    const z = x * x;
    const p = pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)));
    const q = 1 + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))));
    return x + x * (p / q);
  } else if (ax < 1.25) {
    const s = ax - 1;
    const p = pa0 + s * (pa1 + s * (pa2 + s * (pa3 + s * (pa4 + s * (pa5 + s * pa6)))));
    const q = 1 + s * (qa1 + s * (qa2 + s * (qa3 + s * (qa4 + s * (qa5 + s * qa6)))));
    r = ERX + p / q;
  } else if (ax < 6) {
    const s = 1 / (ax * ax);
    let R: number, S: number;
    if (ax < 2.857142857142857) {
      R = ra0 + s * (ra1 + s * (ra2 + s * (ra3 + s * (ra4 + s * (ra5 + s * (ra6 + s * ra7))))));
      S = 1 + s * (sa1 + s * (sa2 + s * (sa3 + s * (sa4 + s * (sa5 + s * (sa6 + s * (sa7 + s * sa8)))))));
    } else {
      R = rb0 + s * (rb1 + s * (rb2 + s * (rb3 + s * (rb4 + s * (rb5 + s * rb6)))));
      S = 1 + s * (sb1 + s * (sb2 + s * (sb3 + s * (sb4 + s * (sb5 + s * (sb6 + s * sb7))))));
    }
    r = 1 - fastExp(-ax * ax - 0.5625 + R / S) / ax;
  } else if (ax === ax) r = 1;
  else return NaN;
  return x < 0 ? -r : r;
}
