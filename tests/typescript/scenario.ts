// An integrator's scenario, typed only by what openapi-typescript generates from the committed
// contract (generated/schema.d.ts) and called through openapi-fetch: filters, paging, a
// conditional GET (304), a routine and its feedback (retried safely), its handout, its FHIR
// PlanDefinition, the ActivityDefinitions it names and its $apply CarePlan, errors (problems and
// OperationOutcomes), an editor's PATCH, an offline sync, a deletion. Checked by
// `tsc --strict` with no cast and no `any`; run by tests/api/test_typescript_client.py with
// BASE_URL (a live server) and EDITOR_KEY (an editor's API key).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Exercise = components["schemas"]["ExerciseDetail"];
type PlanDefinition = components["schemas"]["PlanDefinition"];
type ActivityDefinition = components["schemas"]["ActivityDefinition"];

const baseUrl = process.env.BASE_URL ?? "http://127.0.0.1:8000";
const editorKey = process.env.EDITOR_KEY ?? "";
const api = createClient<paths>({ baseUrl });

const exercisePage = (cursor?: string) =>
  api.GET("/v1/exercises", { params: { query: { limit: 5, cursor } } });
const changesPage = (since: number, cursor?: string) =>
  api.GET("/v1/changes", { params: { query: { since, limit: 2, cursor } } });

async function pageToTheEnd(): Promise<string[]> {
  const slugs: string[] = [];
  let cursor: string | undefined = undefined;
  do {
    const { data, error } = await exercisePage(cursor);
    assert.equal(error, undefined);
    assert.ok(data);
    slugs.push(...data.items.map((item) => item.slug));
    cursor = data.next_cursor ?? undefined;
  } while (cursor !== undefined);
  return slugs;
}

async function filters(): Promise<void> {
  const { data } = await api.GET("/v1/exercises", {
    params: {
      query: { safe_for: ["flexion_sensitive"], max_level: "beginner", limit: 100 },
    },
  });
  assert.ok(data && data.items.length > 0);
  for (const item of data.items) {
    assert.equal(item.level, "beginner");
    assert.ok(!item.contraindications.some((c) => c.flag === "flexion_sensitive"));
  }
}

/** The conditional GET pattern: keep the ETag, send it back; a 304 means "your copy is current"
 * (openapi-fetch reports it as an error with no body, since it is not a 2xx). */
async function revalidated(slug: string): Promise<Exercise> {
  const first = await api.GET("/v1/exercises/{slug}", { params: { path: { slug } } });
  assert.ok(first.data);
  const etag = first.response.headers.get("ETag");
  assert.ok(etag);
  const again = await api.GET("/v1/exercises/{slug}", {
    params: { path: { slug }, header: { "If-None-Match": etag } },
  });
  assert.equal(again.response.status, 304);
  assert.equal(again.data, undefined);
  return first.data;
}

async function routineFeedbackHandoutFhir(): Promise<void> {
  const created = await api.POST("/v1/routines", {
    body: { sensitivity: "flexion_sensitive", minutes: 20 },
    params: { header: { "idempotency-key": randomUUID() } },
  });
  assert.equal(created.response.status, 201);
  assert.ok(created.data);
  const routine = created.data;
  assert.ok(routine.blocks.length > 0);
  assert.ok(created.response.headers.get("RateLimit-Policy"));

  const owner = { Authorization: `Bearer ${routine.delete_token}` };
  const key = randomUUID();
  const give = () =>
    api.POST("/v1/routines/{routine_id}/feedback", {
      params: { path: { routine_id: routine.id }, header: { "idempotency-key": key } },
      body: { pain_before: 3, pain_after: 3, completed: true, difficulty: "right" },
      headers: owner,
    });
  const given = await give();
  assert.equal(given.response.status, 201, JSON.stringify(given.error));
  assert.ok(given.data?.next_routine);
  const retried = await give();
  assert.equal(retried.response.headers.get("Idempotent-Replayed"), "true");
  assert.deepEqual(retried.data, given.data);
  const next = given.data.next_routine;
  assert.equal(next.previous_routine_id, routine.id);

  const recorded = await api.GET("/v1/routines/{routine_id}/feedback", {
    params: { path: { routine_id: routine.id } },
  });
  assert.equal(recorded.data?.next_routine_id, next.id);

  const html = await api.GET("/v1/routines/{routine_id}/handout", {
    params: { path: { routine_id: routine.id }, query: { format: "html" } },
    parseAs: "text",
  });
  assert.ok(html.data?.startsWith("<!DOCTYPE html>"));
  const pdf = await api.GET("/v1/routines/{routine_id}/handout", {
    params: { path: { routine_id: routine.id }, query: { format: "pdf" } },
    parseAs: "arrayBuffer",
  });
  assert.ok(pdf.data);
  assert.equal(new TextDecoder().decode(pdf.data.slice(0, 5)), "%PDF-");

  await fhirAsTyped(routine.id);

  const deleted = await api.DELETE("/v1/routines/{routine_id}", {
    params: { path: { routine_id: routine.id } },
    headers: owner,
  });
  assert.equal(deleted.response.status, 204);
  const gone = await api.GET("/v1/routines/{routine_id}", {
    params: { path: { routine_id: routine.id } },
  });
  assert.equal(gone.response.status, 410);
  assert.equal(gone.error?.status, 410);
  const goneFeedback = await api.GET("/v1/routines/{routine_id}/feedback", {
    params: { path: { routine_id: routine.id } },
  });
  assert.equal(goneFeedback.error?.status, 410);
  const gonePlan = await api.GET("/fhir/r4/PlanDefinition/{resource_id}", {
    params: { path: { resource_id: routine.id } },
  });
  assert.equal(gonePlan.response.status, 410);
  assert.equal(gonePlan.error?.issue[0]?.code, "deleted");
}

/** The routine as FHIR, typed by the contract's schemas: the PlanDefinition's exercise actions
 * name their ActivityDefinitions (`url|version`), found again by search; $apply gives a CarePlan
 * whose activities instantiate the same definitions. */
async function fhirAsTyped(routineId: string): Promise<void> {
  const read = await api.GET("/fhir/r4/PlanDefinition/{resource_id}", {
    params: { path: { resource_id: routineId } },
  });
  assert.ok(read.data);
  const plan: PlanDefinition = read.data;
  assert.equal(plan.resourceType, "PlanDefinition");
  const actions = (plan.action ?? []).flatMap((group) => group.action ?? []);
  // A tailored dose points at a contained definition (`#dose-...`); the others at the catalogue.
  const canonical = actions
    .map((action) => action.definitionCanonical ?? "#")
    .find((named) => !named.startsWith("#"));
  assert.ok(canonical);
  const [url, version] = canonical.split("|");
  assert.ok(url?.includes("/ActivityDefinition/") && version);

  const search = await api.GET("/fhir/r4/ActivityDefinition", {
    params: { query: { url: canonical } },
  });
  assert.equal(search.data?.total, 1);
  const found = search.data?.entry?.[0]?.resource;
  assert.equal(found?.resourceType, "ActivityDefinition");
  if (found?.resourceType === "ActivityDefinition") {
    const definition: ActivityDefinition = found;
    assert.equal(`${definition.url}|${definition.version}`, canonical);
    assert.ok(definition.dosage?.[0]?.text);
  }

  const applied = await api.GET("/fhir/r4/PlanDefinition/{resource_id}/$apply", {
    params: { path: { resource_id: routineId }, query: { subject: "Patient/123" } },
  });
  assert.equal(applied.data?.subject?.reference, "Patient/123");
  const instantiated = (applied.data?.activity ?? []).map(
    (activity) => activity.detail?.instantiatesCanonical?.[0],
  );
  assert.ok(instantiated.includes(canonical));
}

async function errors(): Promise<void> {
  const missing = await api.GET("/v1/exercises/{slug}", {
    params: { path: { slug: "no-such-exercise" } },
    headers: { "X-Request-ID": "typescript-scenario-404" },
  });
  assert.equal(missing.error?.status, 404);
  assert.equal(missing.error?.request_id, "typescript-scenario-404");
  const noDefinition = await api.GET("/fhir/r4/ActivityDefinition/{resource_id}", {
    params: {
      path: { resource_id: "no-such-exercise" },
      header: { "X-Request-ID": "typescript-fhir-404" },
    },
  });
  assert.equal(noDefinition.response.status, 404);
  assert.equal(noDefinition.error?.resourceType, "OperationOutcome");
  assert.equal(noDefinition.error?.issue[0]?.code, "not-found");
  assert.ok(noDefinition.error?.issue[0]?.diagnostics?.endsWith(" request_id=typescript-fhir-404"));
  const invalid = await api.POST("/v1/routines", { body: { minutes: 500 } });
  assert.equal(invalid.error?.status, 422);
  assert.ok(invalid.error?.errors?.some((e) => e.field === "minutes"));
}

async function editAndSync(): Promise<void> {
  const catalogue = await api.GET("/v1/catalogue");
  assert.ok(catalogue.data);
  const copy = new Map(catalogue.data.items.map((item) => [item.slug, item]));

  const editor = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${editorKey}` },
  });
  const current = await editor.GET("/v1/admin/exercises/{slug}", {
    params: { path: { slug: "cat-stretch" } },
  });
  const etag = current.response.headers.get("ETag");
  assert.ok(current.data && etag);
  const summary = "Edited from TypeScript.";
  const patched = await editor.PATCH("/v1/exercises/{slug}", {
    params: { path: { slug: "cat-stretch" }, header: { "if-match": etag } },
    body: { summary, cautions: null },
  });
  assert.equal(patched.response.status, 200, JSON.stringify(patched.error));
  assert.equal(patched.data?.summary, summary);
  const unchanged = await editor.PATCH("/v1/exercises/{slug}", {
    params: {
      path: { slug: "cat-stretch" },
      header: { "if-match": patched.response.headers.get("ETag") ?? "" },
    },
    body: { summary },
  });
  assert.equal(unchanged.response.headers.get("ETag"), patched.response.headers.get("ETag"));

  let cursor: string | undefined = undefined;
  const seen: string[] = [];
  do {
    const { data } = await changesPage(catalogue.data.revision, cursor);
    assert.ok(data);
    for (const change of data.items) {
      seen.push(change.slug);
      if (change.exercise === null) copy.delete(change.slug);
      else copy.set(change.slug, change.exercise);
    }
    cursor = data.next_cursor ?? undefined;
  } while (cursor !== undefined);
  assert.deepEqual(seen, ["cat-stretch"]);
  assert.equal(copy.get("cat-stretch")?.summary, summary);
}

const slugs = await pageToTheEnd();
assert.deepEqual(slugs, [...slugs].sort());
await filters();
const detail = await revalidated(slugs[0] ?? "cat-stretch");
assert.equal(detail.slug, slugs[0]);
await routineFeedbackHandoutFhir();
await errors();
await editAndSync();
console.log(`scenario passed: ${slugs.length} exercises`);
