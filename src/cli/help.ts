/**
 * What `limitdyn --help` and `limitdyn <command> --help` print: every command,
 * its flags, and the solver options it reads from the problem file's "solver"
 * object. Plain data, no imports of the engine: the help answers in the time
 * of a bare `node` start.
 */

export interface CommandHelp {
  /** One line for the command list. */
  summary: string;
  /** Synopsis after `limitdyn <name>`. */
  usage: string;
  /** [flag, description] in the order shown. */
  flags: [string, string][];
  /** Solver options read from the problem file's "solver" object: [key, description]. */
  solver?: [string, string][];
  /** Free text after the tables. */
  notes?: string;
}

const RUN_FLAGS: [string, string][] = [
  ["--config <problem.json>", "problem file (docs/problem-file.md); required"],
  ["--out <result.json>", "result file: f (K × d_out × N), loss (K), profiles, metadata; required"],
  ["--progress auto|bar|lines|none", "progress on stderr for runs longer than ~1 s (auto: a bar on a terminal, periodic lines otherwise)"],
  ["--quiet", "no progress output (same as --progress none)"],
];

const EXPECTATION: [string, string][] = [
  ["expectation.rule", "Gaussian expectations of the skeleton: sobol (default for nonlinear σ) | mc | gauss-hermite | degree3 (exact for linear σ, its default) | closed-form"],
  ["expectation.points", "points per randomization (sobol: a power of 2; default 4096)"],
  ["expectation.randomizations", "independent randomizations (default 8; ≥ 2 for an error estimate)"],
  ["expectation.seed", "seed of the randomizations (default 1)"],
  ["expectation.nodes", "gauss-hermite: nodes per axis (default 3)"],
  ["expectation.estimator", "auto (default) | direct | ibp"],
  ["expectation.controlVariate", "direct estimator: linear (default) | centered | none"],
  ["expectation.threads", "1 | 2 | \"auto\" (default): randomizations on worker threads"],
  ["expectation.kind, .samples, .factor, .antithetic", "legacy keys of the G-space engine (kind: qmc → sobol; samples: total points)"],
];

const DEPTH: [string, string][] = [
  ["scheme", "depth scheme: euler | staggered-euler | heun | rk4 (default rk4)"],
  ["depthSteps", "depth steps S of the (coarse) grid (default 3 with sampled expectations, 8 with deterministic rules)"],
  ["richardson", "Richardson extrapolation over grids S and 2S (default false with rk4)"],
  ["tol", "refine points and depth steps until the largest error estimate of f is ≤ tol (default: one solve)"],
  ["budget", "{ points, depthSteps }: limits of the refinement (default 2^18 points, 64 steps)"],
  ["depthError", "estimate the depth error by step doubling (default true)"],
];

const RESULT_NOTE = "The result file records the package version, the resolved problem (with its SHA-256 and the\nconfig path) and the resolved solver options; read it back with loadTrajectory(path), convert it\nwith `limitdyn export`.";

export const COMMAND_HELP: Record<string, CommandHelp> = {
  train: {
    summary: "finite ResNet, full-batch GD (MATH §1)",
    usage: "--config problem.json --out result.json [--record h,b,p,gram] [--threads n|auto]",
    flags: [
      ...RUN_FLAGS,
      ["--record h,b,p,gram", "depth profiles to record: hidden states h, adjoints b, preactivations p; gram: the tangent Gram matrix K_k at every step (MATH §8; gram, gramLambdaMin in the result) (default none)"],
      ["--threads n|auto", "worker threads of the layer passes (default auto; results are identical for any n)"],
    ],
    solver: [],
    notes: `The finite ResNet reads no "solver" options (the limit solvers' options may stay in the file;\na key no solver reads is an error naming solver.<key>).\n${RESULT_NOTE}`,
  },
  meanode: {
    summary: "Mean ODE, L → ∞ at fixed D and M (MATH §2–3)",
    usage: "--config problem.json --out result.json [--record gram,kl]",
    flags: [...RUN_FLAGS, ["--record gram,kl,h,b", "added to solver.record: the tangent Gram matrix (gram, gramLambdaMin), the KL of the trained law (kl, klProfile; skeleton method only), profiles"]],
    solver: [
      ["method", "skeleton (default: exact reduction, Gaussian expectations) | particles"],
      ...DEPTH,
      ...EXPECTATION,
      ["particles", "particle method: number of particles P (default 4096)"],
      ["particleSeed", "particle method: seed of the particles (default the problem's seed)"],
      ["record", "[\"h\", \"b\", \"gram\", \"kl\"]: depth profiles on the node grid; the MATH §8 diagnostics (\"kl\": skeleton only)"],
      ["recordSteps", "GD steps at which profiles are recorded (default all)"],
    ],
    notes: RESULT_NOTE,
  },
  dmft: {
    summary: "DMFT limit D → ∞: f, loss, Gram matrices on the depth grid (MATH §5)",
    usage: "--config problem.json --out result.json [--record gram,kl]",
    flags: [...RUN_FLAGS, ["--record gram,kl", "added to solver.record: the tangent Gram matrix and the KL of the trained law (MATH §8)"]],
    solver: [...DEPTH, ...EXPECTATION, ["record", "[\"gram\", \"kl\"]: the MATH §8 diagnostics at every step"]],
    notes: `L, M and D of the problem are ignored. ${RESULT_NOTE}`,
  },
  chaos: {
    summary: "large M at fixed L: coupling, tagged particles, laws over a width ladder (MATH §4)",
    usage: "--config problem.json --out result.json",
    flags: RUN_FLAGS,
    solver: [
      ["R", "independent runs per width (default 16)"],
      ["widths", "ladder of widths M (default [16, 64, 256])"],
      ["steps", "GD steps K (default train.steps)"],
      ["diagnostics", "subset of [\"coupling\", \"tagged\", \"laws\"] (default all)"],
      ["seed", "base seed of the runs (default the problem's seed)"],
      ["method", "limit solver: skeleton (default) | particles"],
      ...EXPECTATION,
      ["particles", "particle limit: number of particles"],
      ["particleSeed", "particle limit: seed"],
      ["lawSamples", "limit-law reference sample per (k, ℓ, n) (default 16384)"],
      ["tagFunctional", "displacement (default) | p2 | p: the headline tag correlation"],
    ],
    notes: "docs/chaos.md. loadTrajectory on a chaos result gives the M = ∞ limit trajectory (diagnostics in extras.chaos).",
  },
  export: {
    summary: "convert a result file to numpy .npy / .npz or tidy CSV",
    usage: "result.json --format npy|npz|csv [--out path]",
    flags: [
      ["--format npy|npz|csv", "npy: one <name>.npy per array in a folder; npz: one .npz file; csv: tidy tables in a folder; required"],
      ["--out <path>", "folder (npy, csv) or file (npz); default result-npy/, result-csv/ or result.npz beside the input"],
    ],
    notes: "Arrays: f (K, d_out, N), loss (K), and when recorded steps, s, h, b, p, extras.*.\n  python: np.load(\"result-npy/f.npy\"); np.load(\"result.npz\")[\"loss\"]; pandas.read_csv(\"result-csv/outputs.csv\")",
  },
  sweep: {
    summary: "run a sweep (resumable: completed run ids in --out are skipped)",
    usage: "--config sweep.json --out rows.jsonl [--workers n] [--shard i/n] [--max-runs r] [--progress auto|bar|lines|none]",
    flags: [
      ["--config <sweep.json>", "sweep file (docs/experiments.md); required"],
      ["--out <rows.jsonl>", "one JSON line per finished run; required"],
      ["--workers n", "worker threads (default: the number of cores; 0 = this thread)"],
      ["--shard i/n", "run only shard i of n (run index mod n = i − 1)"],
      ["--max-runs r", "stop after r new runs (resume later)"],
      ["--progress auto|bar|lines|none", "progress on stderr (default auto)"],
    ],
  },
  merge: {
    summary: "join shard files of a sweep",
    usage: "--out merged.jsonl shard1.jsonl shard2.jsonl ...",
    flags: [["--out <merged.jsonl>", "merged rows, duplicates dropped; required"]],
  },
  reproduce: {
    summary: "paper presets: sweeps against the limits, exponent fits, figures",
    usage: "<hidden-width|all-shapes|trajectories|chen> [--scale small|paper] [--out dir] [--workers n] [--progress mode] [--bootstrap B]",
    flags: [
      ["--scale small|paper", "grid size (default small: 10–15 s on 2 cores)"],
      ["--out <dir>", "output folder: rows, fit.json, figures"],
      ["--workers n", "worker threads"],
      ["--progress auto|bar|lines|none", "progress on stderr (default auto)"],
      ["--bootstrap B", "bootstrap resamples of the fits (≥ 10)"],
    ],
    notes: "docs/presets/. chen: tangent Gram matrix, KL of the trained law, test error vs n on two spirals (MATH §8; docs/presets/chen.md).",
  },
};

export const COMMAND_NAMES = Object.keys(COMMAND_HELP);

/** `limitdyn --help`. */
export function usage(version: string): string {
  const w = Math.max(...COMMAND_NAMES.map((n) => n.length));
  const lines = [
    `limitdyn ${version} — training dynamics of deep ResNets and their large-scale limits`,
    "",
    "usage: limitdyn <command> [flags]        flags as --flag value or --flag=value",
    "       limitdyn <command> --help         the command's flags and the solver options it reads",
    "       limitdyn --version",
    "",
    "commands:",
    ...COMMAND_NAMES.map((n) => `  ${n.padEnd(w)}  ${COMMAND_HELP[n].summary}`),
    "",
    "The problem file is described in docs/problem-file.md, sweep files in docs/experiments.md.",
  ];
  return lines.join("\n");
}

/** `limitdyn <command> --help`. */
export function commandHelp(name: string): string {
  const h = COMMAND_HELP[name];
  const table = (rows: [string, string][]) => {
    const w = Math.max(...rows.map(([k]) => k.length));
    return rows.map(([k, d]) => `  ${k.padEnd(w)}  ${d}`);
  };
  const lines = [`limitdyn ${name} — ${h.summary}`, "", `usage: limitdyn ${name} ${h.usage}`, "", "flags:", ...table(h.flags)];
  if (h.solver && h.solver.length) lines.push("", "solver options (the problem file's \"solver\" object):", ...table(h.solver));
  if (h.notes) lines.push("", h.notes);
  return lines.join("\n");
}
