// An app's side of one IRL flow, typed only with what openapi-typescript generates from
// /api/v1/openapi.json (./irl-api.d.ts, written next to this file by the test, never
// committed). `tsc --noEmit` checks it: a field renamed, dropped or retyped in the
// document stops it compiling. Nothing here runs.
import type { components, paths } from "./irl-api";

type Schemas = components["schemas"];
type Body<P extends keyof paths, M extends "post" | "patch" | "put"> = NonNullable<
  paths[P][M]
> extends { requestBody: { content: { "application/json": infer B } } }
  ? B
  : never;

type Registered = paths["/api/v1/auth/register"]["post"]["responses"][201]["content"]["application/json"];
type CreatedVenue = paths["/api/v1/venues"]["post"]["responses"][201]["content"]["application/json"];
type NearbyQuery = paths["/api/v1/venues/nearby"]["get"]["parameters"]["query"];
type NearbyAnswer = paths["/api/v1/venues/nearby"]["get"]["responses"][200]["content"];
type CheckinAnswer = paths["/api/v1/checkins"]["post"]["responses"][201]["content"]["application/json"];
type CheckinHeaders = NonNullable<paths["/api/v1/checkins"]["post"]["parameters"]["header"]>;
type Meetings = paths["/api/v1/me/meetings"]["get"]["responses"][200]["content"]["application/json"];
type Badges = paths["/api/v1/me/badges"]["get"]["responses"][200]["content"]["application/json"];
type Inbox = paths["/api/v1/me/notifications"]["get"]["responses"][200]["content"]["application/json"];
type Problem = Schemas["Error"];
type RateLimited = paths["/api/v1/checkins"]["post"]["responses"][429];

async function call<T>(base: string, method: string, path: string, init: {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json", ...init.headers };
  if (init.token !== undefined) headers["authorization"] = `Bearer ${init.token}`;
  const answer = await fetch(base + path, {
    method,
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (!answer.ok) {
    const problem = (await answer.json()) as Problem;
    const retry: RateLimited["headers"]["Retry-After"] | null = answer.status === 429 ? 1 : null;
    throw new Error(`${problem.code} ${problem.status}: ${problem.message} (retry ${retry})`);
  }
  return (await answer.json()) as T;
}

function query(values: NearbyQuery): string {
  const pairs = Object.entries(values).map(([key, value]) => [key, String(value)]);
  return new URLSearchParams(pairs).toString();
}

export async function register(base: string, handle: string): Promise<Registered> {
  const body: Body<"/api/v1/auth/register", "post"> = {
    handle,
    email: `${handle}@example.com`,
    password: "correct horse battery",
    display_name: handle,
  };
  const registered = await call<Registered>(base, "POST", "/api/v1/auth/register", { body });
  const bearer: "Bearer" = registered.token_type;
  const points: number = registered.user.points;
  console.log(bearer, points, registered.user.location_sharing satisfies Schemas["Me"]["location_sharing"]);
  return registered;
}

export async function befriend(base: string, a: Registered, b: Registered): Promise<void> {
  for (const [follower, followee] of [[a, b], [b, a]] as const) {
    const body: Body<"/api/v1/me/contacts", "post"> = { handle: followee.user.handle };
    await call(base, "POST", "/api/v1/me/contacts", { token: follower.access_token, body });
  }
}

export async function createVenue(base: string, owner: Registered): Promise<CreatedVenue> {
  const body: Body<"/api/v1/venues", "post"> = {
    name: "Typed Cafe",
    category: "Coffee",
    location: { lat: 40.7306, lon: -73.9866 },
  };
  const venue = await call<CreatedVenue>(base, "POST", "/api/v1/venues", { token: owner.access_token, body });
  const where: Schemas["Location"] = venue.location;
  const zone: string = venue.timezone;
  console.log(venue.id, venue.name, where.lat, where.lon, zone, venue.address ?? "no address");
  return venue;
}

export async function nearby(base: string, token: string): Promise<number[]> {
  const around: NearbyQuery = { lat: 40.7306, lon: -73.9866, radius_m: 500, limit: 5 };
  const page = await call<NearbyAnswer["application/json"]>(
    base, "GET", `/api/v1/venues/nearby?${query(around)}`, { token },
  );
  const distances = "items" in page ? page.items.map((venue) => venue.distance_m) : [];
  const geo = await call<NearbyAnswer["application/geo+json"]>(
    base, "GET", `/api/v1/venues/nearby?${query({ ...around, format: "geojson" })}`, { token },
  );
  const kind: "FeatureCollection" = geo.type;
  for (const feature of geo.features) {
    const [lon, lat] = feature.geometry.coordinates;
    const venue: Schemas["NearbyVenueProperties"] = feature.properties;
    console.log(kind, feature.id, lon, lat, venue.name, venue.distance_m, geo.next_cursor ?? "end");
  }
  return distances;
}

export async function checkIn(base: string, person: Registered, venue: CreatedVenue): Promise<CheckinAnswer> {
  const body: Body<"/api/v1/checkins", "post"> = { venue_id: venue.id, location: venue.location };
  const headers: CheckinHeaders = { "Idempotency-Key": crypto.randomUUID() };
  const done = await call<CheckinAnswer>(base, "POST", "/api/v1/checkins", {
    token: person.access_token,
    body,
    headers: { ...headers } as Record<string, string>,
  });
  const reasons: string[] = done.rewards.reasons.map((reason) => `${reason.code}: ${reason.message}`);
  const checkedInAt: Schemas["Venue"] | null = done.checkin.venue;
  const met: string[] = done.meetings.map((meeting) => meeting.user.handle);
  const firstTime: boolean[] = done.meetings.map((meeting) => meeting.first_time);
  console.log(done.checkin.id, done.rewards.eligible, done.rewards.points, reasons, checkedInAt?.name, met, firstTime);
  return done;
}

export async function rewardsAndMeetings(base: string, person: Registered): Promise<string[]> {
  const badges = await call<Badges>(base, "GET", "/api/v1/me/badges", { token: person.access_token });
  const meetings = await call<Meetings>(base, "GET", "/api/v1/me/meetings", { token: person.access_token });
  for (const meeting of meetings.items) {
    const day: string = meeting.local_day;
    console.log(meeting.id, meeting.user.display_name, meeting.venue.name, meeting.met_at, day);
  }
  return badges.items.map((badge) => `${badge.key} ${badge.level}`);
}

export async function notifications(base: string, person: Registered): Promise<number> {
  const inbox = await call<Inbox>(base, "GET", "/api/v1/me/notifications", { token: person.access_token });
  const meetings = inbox.items.filter((notification) => notification.kind === "meeting");
  const unread = inbox.items.filter((notification) => notification.read_at === null);
  const read: Body<"/api/v1/me/notifications/read", "post"> = { ids: unread.map((n) => n.id) };
  await call(base, "POST", "/api/v1/me/notifications/read", { token: person.access_token, body: read });
  return meetings.length + inbox.unread_count;
}

export async function flow(base: string): Promise<void> {
  const alice = await register(base, "alice_ts");
  const bob = await register(base, "bob_ts");
  await befriend(base, alice, bob);
  const cafe = await createVenue(base, alice);
  await nearby(base, alice.access_token);
  await checkIn(base, alice, cafe);
  await checkIn(base, bob, cafe);
  console.log(await rewardsAndMeetings(base, bob), await notifications(base, alice));
}
