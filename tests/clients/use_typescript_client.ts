// What an app team writes against openapi-typescript's types and openapi-fetch.
//
// Compiled by `tsc --strict` (tsconfig.json) against build/schema.ts, which the test
// generates from the served document, then run by node against a live server.
// Arguments: BASE_URL CLIENT_KEY LIMITED_CLIENT_KEY. Prints one JSON object of what it saw.
import createClient from "openapi-fetch";
import type { components, paths } from "./build/schema.js";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];

const [baseUrl, key, limitedKey] = process.argv.slice(2) as [string, string, string];
const seen: Record<string, unknown> = {};

function client(bearer: string) {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${bearer}` } });
}

function problem(error: Problem | undefined): Problem {
  if (error === undefined) throw new Error("expected a problem");
  return error;
}

const api = client(key);

const minted = await api.POST("/api/v1/tokens", {
  body: { permissions: ["allow_join"], roles: ["rtc"], roomId: "standup-42", expiresIn: "10m" },
});
if (minted.data === undefined) throw new Error(`mint: ${minted.response.status}`);
const token = minted.data;
const permissions: Schemas["Permission"][] = token.claims.permissions;
seen.mint = {
  status: minted.response.status,
  expiresIn: token.expiresIn,
  permissions,
  rateLimit: minted.response.headers.get("X-RateLimit-Limit"),
};

// The claims of a minted token, sent again: the enums are the same types.
const again: Schemas["MintRequest"] = { permissions: token.claims.permissions };
if (token.claims.roles !== undefined) again.roles = token.claims.roles;
if (token.claims.roomId !== undefined) again.roomId = token.claims.roomId;
seen.again = (await api.POST("/api/v1/tokens", { body: again })).response.status;

const inspected = await api.POST("/api/v1/tokens/inspect", {
  body: { token: token.token, roomId: "standup-42", use: "join" },
});
if (inspected.data === undefined) throw new Error(`inspect: ${inspected.response.status}`);
const diagnosis: Schemas["Diagnosis"] = inspected.data;
const verdict: Schemas["Verdict"] = diagnosis.verdict;
seen.inspect = {
  verdict,
  valid: verdict === "valid",
  summary: diagnosis.summary.length > 0,
  roomId: diagnosis.claims === null ? null : diagnosis.claims.roomId,
  reasons: diagnosis.reasons.map((reason) => reason.code),
};

// RFC 7662's form: openapi-fetch serializes it when told the content type. The answers
// narrow on `active`.
const FORM = { "Content-Type": "application/x-www-form-urlencoded" } as const;
function introspect(as: ReturnType<typeof client>, value: string) {
  return as.POST("/api/v1/tokens/introspect", { body: { token: value }, headers: FORM });
}
const known = await introspect(api, token.token);
const unknown = await introspect(api, "not-a-token");
if (known.data === undefined || unknown.data === undefined) throw new Error("introspect");
const active: Schemas["Introspection"] = known.data;
if (!active.active) throw new Error("introspect: expected an active token");
if (unknown.data.active) throw new Error("introspect: expected an inactive token");
seen.introspect = { scope: active.scope, token_type: active.token_type, inactive: unknown.data };

// VideoSDK's example-server route, by query string and by JSON body.
const byQuery = await api.GET("/get-token", {
  params: { query: { roomId: "standup-42", peerId: "alice" } },
});
const byBody = await api.POST("/get-token", { body: { roomId: "standup-42" } });
seen.dropIn = [byQuery.data, byBody.data].map(
  (answer) => answer !== undefined && answer.token.split(".").length === 3,
);

const refused = await client("tck_" + "0".repeat(38)).POST("/api/v1/tokens", {
  body: { permissions: ["allow_join"] },
});
seen["401"] = {
  status: refused.response.status,
  code: problem(refused.error).code === "unauthorized",
  challenge: refused.response.headers.get("WWW-Authenticate"),
};

const unitless = await api.POST("/api/v1/tokens", {
  body: { permissions: ["allow_join"], expiresIn: "120" },
});
const invalid = problem(unitless.error);
const fieldCodes = (invalid.fieldErrors?.["expiresIn"] ?? []).map((error) => error.code);
seen["422"] = {
  status: unitless.response.status,
  code: invalid.code === "validation_failed",
  fieldCodes,
  pattern: fieldCodes.length === 1 && fieldCodes[0] === "pattern",
};

const limited = client(limitedKey);
const statuses: number[] = [];
for (let attempt = 0; attempt < 5; attempt += 1) {
  const answer = await introspect(limited, token.token);
  statuses.push(answer.response.status);
  if (answer.response.status === 429) {
    seen["429"] = {
      code: problem(answer.error).code === "rate_limited",
      retryAfter: answer.response.headers.get("Retry-After"),
      remaining: answer.response.headers.get("X-RateLimit-Remaining"),
    };
    break;
  }
}
seen.statuses = statuses;
console.log(JSON.stringify(seen));
