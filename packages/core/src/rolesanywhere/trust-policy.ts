/**
 * Evaluation of IAM role trust policies for Roles Anywhere and STS AssumeRole: Allow/Deny
 * statements, principals, actions, and the condition operators trust policies use.
 * @module
 */

/** Request context keys: `aws:SourceArn`, `aws:PrincipalTag/x509Subject/CN`, … (case-insensitive). */
export type ConditionContext = ReadonlyMap<string, string | readonly string[]>;

/** What is being asked of a trust policy. */
export interface TrustRequest {
  /** `{ Service: "rolesanywhere.amazonaws.com" }` or `{ AWS: "arn:aws:iam::…" }`. */
  principal: { type: "Service" | "AWS"; id: string; accountId?: string | undefined };
  /** Every action that must be allowed, e.g. `sts:AssumeRole`, `sts:TagSession`. */
  actions: readonly string[];
  context: ConditionContext;
}

/** The verdict, with the first reason a request was not allowed. */
export interface TrustDecision {
  allowed: boolean;
  reason: string;
}

type Statement = {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};

const toArray = <T>(v: T | readonly T[] | undefined): T[] =>
  v === undefined ? [] : Array.isArray(v) ? [...v] : [v as T];

/** IAM wildcard match: `*` any run, `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(
    `^${pattern
      .split("")
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")))
      .join("")}$`,
    ignoreCase ? "is" : "s",
  );
  return re.test(value);
}

function principalMatches(principal: unknown, request: TrustRequest["principal"]): boolean {
  if (principal === "*") return true;
  if (!principal || typeof principal !== "object") return false;
  const values = toArray((principal as Record<string, string | string[]>)[request.type]);
  return values.some((p) => {
    if (p === "*") return true;
    if (request.type === "Service") return p === request.id;
    if (p === request.id) return true;
    // An account principal (`123456789012` or `arn:aws:iam::123456789012:root`) trusts the whole account.
    const account = /^\d{12}$/.test(p) ? p : /^arn:aws[\w-]*:iam::(\d{12}):root$/.exec(p)?.[1];
    return account !== undefined && account === request.accountId;
  });
}

function actionMatches(statement: Statement, action: string): boolean {
  if (statement.NotAction !== undefined)
    return !toArray(statement.NotAction).some((a) => wildcardMatch(a, action, true));
  return toArray(statement.Action).some((a) => wildcardMatch(a, action, true));
}

function lookup(context: ConditionContext, key: string): string[] | undefined {
  const lower = key.toLowerCase();
  for (const [k, v] of context) if (k.toLowerCase() === lower) return toArray(v as string | string[]);
  return undefined;
}

const arnLike = (pattern: string, value: string) => {
  const p = pattern.split(":");
  const v = value.split(":");
  if (p.length < 6 || v.length < 6) return false;
  const vv = [...v.slice(0, 5), v.slice(5).join(":")];
  const pp = [...p.slice(0, 5), p.slice(5).join(":")];
  return pp.every((part, i) => wildcardMatch(part, vv[i]!));
};

const OPERATORS: Record<string, (expected: string, actual: string) => boolean> = {
  StringEquals: (e, a) => e === a,
  StringEqualsIgnoreCase: (e, a) => e.toLowerCase() === a.toLowerCase(),
  StringLike: (e, a) => wildcardMatch(e, a),
  ArnEquals: (e, a) => e === a,
  ArnLike: arnLike,
};
const NEGATED: Record<string, string> = {
  StringNotEquals: "StringEquals",
  StringNotEqualsIgnoreCase: "StringEqualsIgnoreCase",
  StringNotLike: "StringLike",
  ArnNotEquals: "ArnEquals",
  ArnNotLike: "ArnLike",
};

/** Evaluates one condition operator block; unknown operators fail closed. */
function conditionHolds(
  rawOperator: string,
  block: Record<string, unknown>,
  context: ConditionContext,
): boolean {
  let operator = rawOperator;
  let setOp: "ForAnyValue" | "ForAllValues" | undefined;
  const m = /^(ForAnyValue|ForAllValues):(.+)$/.exec(operator);
  if (m) {
    setOp = m[1] as "ForAnyValue" | "ForAllValues";
    operator = m[2]!;
  }
  const ifExists = operator.endsWith("IfExists");
  if (ifExists) operator = operator.slice(0, -"IfExists".length);
  for (const [key, rawExpected] of Object.entries(block)) {
    const expected = toArray(rawExpected as string | string[]).map(String);
    const actual = lookup(context, key);
    if (operator === "Null") {
      const wantNull = expected[0] === "true";
      if (wantNull !== (actual === undefined || actual.length === 0)) return false;
      continue;
    }
    if (actual === undefined || actual.length === 0) {
      if (ifExists || setOp === "ForAllValues") continue;
      if (NEGATED[operator] && !setOp) continue; // a negated operator holds for a missing key
      return false;
    }
    const negatedBase = NEGATED[operator];
    const base = OPERATORS[negatedBase ?? operator];
    if (!base) return false;
    const matchesAny = (value: string) => expected.some((e) => base(e, value));
    let ok: boolean;
    if (setOp === "ForAllValues") ok = actual.every((v) => (negatedBase ? !matchesAny(v) : matchesAny(v)));
    else if (setOp === "ForAnyValue") ok = actual.some((v) => (negatedBase ? !matchesAny(v) : matchesAny(v)));
    else ok = negatedBase ? !actual.some(matchesAny) : actual.some(matchesAny);
    if (!ok) return false;
  }
  return true;
}

function statementApplies(statement: Statement, request: TrustRequest, action: string): boolean {
  if (!principalMatches(statement.Principal, request.principal)) return false;
  if (!actionMatches(statement, action)) return false;
  for (const [operator, block] of Object.entries(statement.Condition ?? {})) {
    if (!conditionHolds(operator, block, request.context)) return false;
  }
  return true;
}

/**
 * Evaluates a trust policy document (object or JSON text) for every action of a request:
 * each must be allowed by some statement and denied by none.
 */
export function evaluateTrustPolicy(policy: unknown, request: TrustRequest): TrustDecision {
  let doc = policy;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      return { allowed: false, reason: "the trust policy is not valid JSON" };
    }
  }
  const statements = toArray((doc as { Statement?: Statement | Statement[] } | undefined)?.Statement);
  for (const action of request.actions) {
    const applicable = statements.filter((s) => statementApplies(s, request, action));
    if (applicable.some((s) => s.Effect === "Deny"))
      return { allowed: false, reason: `an explicit Deny matches ${action}` };
    if (!applicable.some((s) => s.Effect === "Allow")) {
      return {
        allowed: false,
        reason: `no statement allows ${request.principal.id} to perform ${action} with this request's conditions`,
      };
    }
  }
  return { allowed: true, reason: "" };
}
