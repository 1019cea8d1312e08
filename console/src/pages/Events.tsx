import { useEffect, useState } from "preact/hooks";
import { api, enc, query, type HeraldEvent, type Page, type Subscription } from "../api";
import { catalog, channel, describeChannel } from "../data";
import { go, href } from "../router";
import { Empty, ErrorBox, Json, Loading, Pager, Status, Time, describe, useAsync, useCursorPages } from "../ui";
import { subscriptionsPath } from "./Notifications";
import { Timeline } from "./Subscription";

const STATUSES = ["pending", "retryable", "success", "failed"];

function toIso(local: string | null): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function EventsPage({ project, params }: { project: string; params: URLSearchParams }) {
  const filters = {
    event_type: params.get("type") ?? "",
    status: params.get("status") ?? "",
    since: params.get("since") ?? "",
    until: params.get("until") ?? "",
  };
  const key = JSON.stringify(filters);
  const pages = useCursorPages(
    (cursor) =>
      api.get<Page<HeraldEvent>>(
        `/v1/events${query({
          project,
          event_type: filters.event_type,
          status: filters.status,
          since: toIso(filters.since),
          until: toIso(filters.until),
          limit: 25,
          cursor,
        })}`,
      ),
    [project, key],
  );
  const codes = useAsync(() => catalog(project), [project]);
  return (
    <section>
      <div class="page-head">
        <h1>Events <span class="muted">· {project}</span></h1>
        <button type="button" onClick={pages.reload}>Refresh</button>
      </div>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const search = new URLSearchParams();
          for (const name of ["type", "status", "since", "until"]) {
            const value = String(form.get(name) ?? "").trim();
            if (value) search.set(name, value);
          }
          const text = search.toString();
          go(href("p", project, "events") + (text ? `?${text}` : ""));
        }}
      >
        <div class="field">
          <label for="f-type">Type</label>
          <input id="f-type" name="type" list="codes" value={filters.event_type} key={`t${key}`} placeholder="any" />
          <datalist id="codes">
            {(codes.data?.items ?? []).map((c) => <option value={c.code} key={c.code}>{c.description}</option>)}
            {(codes.data?.customCodes ?? []).map((c) => <option value={c} key={c} />)}
          </datalist>
        </div>
        <div class="field">
          <label for="f-status">Status</label>
          <select id="f-status" name="status" value={filters.status} key={`s${key}`}>
            <option value="">any</option>
            {STATUSES.map((s) => <option value={s} key={s}>{s}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="f-since">Since</label>
          <input id="f-since" name="since" type="datetime-local" value={filters.since} key={`a${key}`} />
        </div>
        <div class="field">
          <label for="f-until">Until</label>
          <input id="f-until" name="until" type="datetime-local" value={filters.until} key={`b${key}`} />
        </div>
        <button type="submit" class="primary">Apply</button>
        <a class="button" href={href("p", project, "events")}>Clear</a>
      </form>
      <ErrorBox error={pages.error} />
      {pages.loading && !pages.data ? <Loading what="events" /> : null}
      {pages.data && !pages.data.items.length ? <Empty>No events{key !== JSON.stringify({ event_type: "", status: "", since: "", until: "" }) ? " match these filters" : " yet"}.</Empty> : null}
      {pages.data?.items.length ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Events of project {project}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Triggered</th>
                <th scope="col">Type</th>
                <th scope="col">Description</th>
                <th scope="col">Status</th>
                <th scope="col">Event</th>
              </tr>
            </thead>
            <tbody>
              {pages.data.items.map((e) => (
                <tr key={e.id}>
                  <td><Time iso={e.triggered_at} /></td>
                  <td><code>{e.event_type}</code></td>
                  <td class="wrap">{e.description}</td>
                  <td><Status status={e.status} /></td>
                  <td><a href={href("p", project, "events", e.id)}><code>{e.id}</code></a></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager pages={pages} label="Events" />
    </section>
  );
}

export function EventPage({ project, id }: { project: string; id: string }) {
  const event = useAsync(() => api.get<HeraldEvent>(`/v1/events/${enc(id)}`), [id]);
  const subs = useAsync(() => api.get<Page<Subscription>>(`${subscriptionsPath(project)}${query({ limit: 100 })}`), [project]);
  const settling = event.data && (event.data.status === "pending" || event.data.status === "retryable");
  useEffect(() => {
    if (!settling) return;
    const timer = setTimeout(event.reload, 1500); // watch its deliveries arrive
    return () => clearTimeout(timer);
  }, [event.data]);
  if (event.error) return <ErrorBox error={event.error} />;
  if (!event.data) return <Loading what="the event" />;
  const e = event.data;
  return (
    <section>
      <p class="crumbs"><a href={href("p", project, "events")}>Events</a> ›</p>
      <div class="page-head">
        <h1>
          <code>{e.event_type}</code> <Status status={e.status} />
        </h1>
        <button type="button" onClick={event.reload}>Refresh</button>
      </div>
      <div class="columns">
        <div class="panel">
          <dl class="facts">
            <dt>Description</dt>
            <dd class="wrap">{e.description}</dd>
            <dt>Triggered</dt>
            <dd><Time iso={e.triggered_at} /></dd>
            <dt>Event id</dt>
            <dd><code>{e.id}</code></dd>
            <dt>Correlation id</dt>
            <dd><code class="wrap">{e.correlationId}</code></dd>
            <dt>Project</dt>
            <dd>{e.projectId}</dd>
            {e.payloadVersion ? (<><dt>Payload version</dt><dd>{e.payloadVersion}</dd></>) : null}
            <dt>Derived from</dt>
            <dd>{e.derivedFrom ? <a href={href("p", project, "events", e.derivedFrom)}><code>{e.derivedFrom}</code></a> : <span class="muted">—</span>}</dd>
            {e.error ? (<><dt>Routing error</dt><dd class="wrap error-text">{e.error}</dd></>) : null}
          </dl>
          <h2>Payload</h2>
          <Json value={e.payload} label="Event payload" />
        </div>
        <div class="panel">
          <h2>Notifications</h2>
          {!e.notifications?.length ? <Empty>No subscription matched this event.</Empty> : null}
          {(e.notifications ?? []).map((n) => {
            const sub = subs.data?.items.find((s) => s.id === n.subscriptionId);
            return (
              <article class="notification" key={n.id}>
                <h3>
                  <a href={href("p", project, "notifications", n.subscriptionId)}>{sub ? <code>{sub.eventCode}</code> : "Subscription"}</a>{" "}
                  <Status status={n.status} /> <ChannelName id={n.channelId} />
                </h3>
                {n.lastError ? <p class="error-text wrap">Last error: {n.lastError}</p> : null}
                <Timeline attempts={n.attempts} />
                {n.previousCycles.map((c) => (
                  <details key={c.cycle}>
                    <summary>Cycle {c.cycle}: {c.status}</summary>
                    <Timeline attempts={c.attempts} />
                  </details>
                ))}
              </article>
            );
          })}
          <TestSender project={project} subs={subs.data?.items ?? []} code={e.event_type} />
        </div>
      </div>
    </section>
  );
}

function ChannelName({ id }: { id: string }) {
  const ch = useAsync(() => channel(id), [id]);
  return ch.data ? <span class="muted small wrap">→ {describeChannel(ch.data)}</span> : null;
}

function TestSender({ project, subs, code }: { project: string; subs: Subscription[]; code: string }) {
  const [subId, setSubId] = useState("");
  const [error, setError] = useState<unknown>(null);
  if (!subs.length) return null;
  const chosen = subs.find((s) => s.id === (subId || subs[0].id)) ?? subs[0];
  return (
    <form
      class="inline-form test-sender"
      onSubmit={async (ev) => {
        ev.preventDefault();
        setError(null);
        try {
          const body = chosen.eventCode === "*" ? { eventCode: code } : {};
          const sent = await api.post<{ id: string }>(`${subscriptionsPath(project)}/${enc(chosen.id)}:sendTestEvent`, body);
          go(href("p", project, "events", sent.id));
        } catch (err) {
          setError(err);
        }
      }}
    >
      <label for="test-sub">Send a test event to</label>
      <select id="test-sub" value={chosen.id} onChange={(e) => setSubId((e.target as HTMLSelectElement).value)}>
        {subs.map((s) => (
          <option value={s.id} key={s.id}>
            {s.eventCode} → {s.notificationChannelId.slice(0, 8)}
          </option>
        ))}
      </select>
      <button type="submit">Send test event</button>
      {error ? <p class="error" role="alert">{describe(error)}</p> : null}
    </form>
  );
}
