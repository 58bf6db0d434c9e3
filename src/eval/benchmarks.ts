/** What each benchmark measures: its metric keys (exact names other tools read), categories and charted series. */
export interface BenchmarkSpec {
  name: 'locomo' | 'longmemeval';
  /** Retrieval metric keys, in report order. */
  metricKeys: readonly string[];
  /** Known categories in report order; others follow alphabetically. */
  categories: readonly string[];
  /** Token budgets `context()` is measured at. */
  budgets: readonly number[];
  /** Charted recall: `k` series against the cut-off, `budget` series against the token budget. */
  chart: {
    kTitle: string;
    k: ReadonlyArray<readonly [number, string]>;
    budgetTitle: string;
    budget: ReadonlyArray<readonly [number, string]>;
  };
}

/** QA-mode metric keys, added to every group when `--qa` ran. */
export const QA_METRIC_KEYS = ['j', 'f1', 'bleu1'] as const;

/** How many ranked items `search` returns per question; the deepest cut-off any metric uses. */
export const SEARCH_DEPTH = 50;

/** LoCoMo's top-k cut-offs. */
export const K_CUTOFFS = [5, 10, 20, 50] as const;
const LOCOMO_BUDGETS = [1000, 2000, 4000] as const;

export const LOCOMO: BenchmarkSpec = {
  name: 'locomo',
  metricKeys: [
    ...K_CUTOFFS.map((k) => `any@${k}`),
    ...K_CUTOFFS.map((k) => `all@${k}`),
    ...LOCOMO_BUDGETS.map((b) => `all@budget${b}`),
    'ndcg@10',
    'mrr',
  ],
  categories: ['multi-hop', 'temporal', 'open-domain', 'single-hop'],
  budgets: LOCOMO_BUDGETS,
  chart: {
    kTitle: 'all@k: every evidence turn in the top k',
    k: K_CUTOFFS.map((k) => [k, `all@${k}`] as const),
    budgetTitle: 'all@budget: every evidence turn in context()',
    budget: LOCOMO_BUDGETS.map((b) => [b, `all@budget${b}`] as const),
  },
};

export const LONGMEMEVAL: BenchmarkSpec = {
  name: 'longmemeval',
  metricKeys: [
    'session_any@5',
    'session_all@5',
    'session_any@10',
    'session_all@10',
    'turn_any@10',
    'turn_all@10',
    'turn_all@budget2000',
    'ndcg@10',
  ],
  categories: [
    'single-session-user',
    'single-session-assistant',
    'single-session-preference',
    'multi-session',
    'knowledge-update',
    'temporal-reasoning',
  ],
  budgets: [2000],
  chart: {
    kTitle: 'session_all@k: every answer session in the top k',
    k: [
      [5, 'session_all@5'],
      [10, 'session_all@10'],
    ],
    budgetTitle: 'turn_all@budget: every answer turn in context()',
    budget: [[2000, 'turn_all@budget2000']],
  },
};

export const BENCHMARKS = { locomo: LOCOMO, longmemeval: LONGMEMEVAL } as const;

/** QA mode answers from the `context()` pack of this budget (the one `all@budget2000` measures). */
export const QA_CONTEXT_BUDGET = 2000;

/** Turns of a session are spaced this far apart after the session time, so their order survives. */
export const TURN_SPACING_MS = 10_000;
