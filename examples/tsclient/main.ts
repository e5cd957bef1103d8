// A client generated from /openapi.json: the README's "For client
// developers" section writes chapterhouse.d.ts here with openapi-typescript,
// type-checks this file with tsc --strict and runs it against make run (CI
// does the same). It reads an organisation, changes it with updateMask and
// If-Match set to the ETag it read, and shows that a change based on that
// ETag, once stale, is refused with 412 and the typed error body.
import createClient from "openapi-fetch";
import type { components, paths } from "./chapterhouse.js";

type ApplicationInput = components["schemas"]["ApplicationInput"];
type ErrorReason = components["schemas"]["ErrorReason"];

// An application names its applicant once: the document's oneOf makes
// both at once a type error, which this line expects (tsc fails if the
// generated type ever accepts it).
// @ts-expect-error unit and individual are one proto oneof
const both: ApplicationInput = {
  unit: { organization: "organizations/zhiyuan-ai", representative: "people/wang-wei" },
  individual: { person: "people/li-na", academicCredentials: "PhD", expertise: ["NLP"] },
};
void both;

const stale: ErrorReason = "ETAG_MISMATCH";

async function main(): Promise<void> {
  const url = process.env.CH_URL;
  const token = process.env.ADMIN_TOKEN;
  if (!url || !token) {
    throw new Error("set CH_URL and ADMIN_TOKEN (source .devstack/tokens.env)");
  }
  const client = createClient<paths>({ baseUrl: url, headers: { Authorization: `Bearer ${token}` } });
  const path = { organization: "zhiyuan-ai" };

  const read = await client.GET("/v1/organizations/{organization}", { params: { path } });
  if (!read.data) {
    throw new Error(`read: HTTP ${read.response.status} ${read.error?.error.reason}`);
  }
  // The ETag header is the body's etag as a quoted entity tag (the
  // document says so); a gateway that does not send it yet leaves the body's.
  const header = read.response.headers.get("ETag");
  const etag = header ?? `"${read.data.etag}"`;
  if (etag !== `"${read.data.etag}"`) {
    throw new Error(`read: ETag header ${header}, body etag ${read.data.etag}`);
  }
  console.log(`read ${read.data.name}: ETag ${etag}`);

  // A read-modify-write: the mask names the one field changed, If-Match the
  // version it was based on.
  const change = (summary: string) =>
    client.PATCH("/v1/organizations/{organization}", {
      params: { path, query: { updateMask: "aiBusinessSummary" }, header: { "If-Match": etag } },
      body: { aiBusinessSummary: summary },
    });
  const updated = await change(`${read.data.aiBusinessSummary} (reviewed)`);
  if (!updated.data) {
    throw new Error(`update: HTTP ${updated.response.status} ${updated.error?.error.reason}: ${updated.error?.error.message}`);
  }
  console.log(`updated with If-Match ${etag}: HTTP ${updated.response.status}, ETag now ${updated.response.headers.get("ETag")}`);

  // The same If-Match again: that version is gone, and nothing changes.
  const refused = await change("a change based on a stale read");
  if (refused.response.status !== 412 || refused.error?.error.reason !== stale) {
    throw new Error(`a stale If-Match: HTTP ${refused.response.status} ${refused.error?.error.reason}, want 412 ${stale}`);
  }
  console.log(`a stale If-Match: HTTP ${refused.response.status} ${refused.error.error.reason} (${refused.error.error.message})`);
}

main().catch((err: unknown) => {
  console.error("tsclient:", err instanceof Error ? err.message : err);
  process.exit(1);
});
