import { useState } from "preact/hooks";
import { api, enc, query, type Attempt, type Counts, type Notification, type Page, type Subscription } from "../api";
import { catalog, channel, describeChannel } from "../data";
import { go, href } from "../router";
import { Confirm, Empty, ErrorBox, Field, Loading, Pager, Time, describe, useAsync, useCursorPages } from "../ui";
import { subscriptionsPath } from "./Notifications";

export function SubscriptionActions(props: { project: string; sub: Subscription; counts?: Counts; onChanged: () => void; onDeleted: () => void }) {
  const { project, sub, counts } = props;
  const [error, setError] = useState<unknown>(null);
  const base = `${subscriptionsPath(project)}/${enc(sub.id)}`;
  return (
    <div class="actions">
      <button
        type="button"
        onClick={async () => {
          setError(null);
          try {
            await api.post(`${base}:${sub.enabled ? "disable" : "enable"}`);
            props.onChanged();
          } catch (err) {
            setError(err);
          }
        }}
      >
        {sub.enabled ? "Disable" : "Enable"}
      </button>
      <Confirm
        label="Delete"
        confirm="Yes, delete it"
        danger
        disabled={!counts?.deletable}
        title={counts && !counts.deletable ? "Only a subscription without pending or failed notifications can be deleted" : undefined}
        onConfirm={async () => {
          setError(null);
          try {
            await api.del(base);
            props.onDeleted();
          } catch (err) {
            setError(err);
          }
        }}
      />
      {counts && !counts.deletable ? (
        <p class="why small" data-testid="delete-blocked">
          Delete is available once nothing is pending or failed: {counts.failed} failed, {counts.pending + counts.retryable} pending.{" "}
          {counts.failed ? <a href={href("p", project, "notifications", sub.id, "failed")}>Reprocess or delete the failed ones in Delivery failed</a> : "Pending ones settle by themselves (delivered, or failed after the last retry); disable the subscription so no new ones are made."}
        </p>
      ) : null}
      <ErrorBox error={error} />
    </div>
  );
}

export function SubscriptionPage({ project, id, tab }: { project: string; id: string; tab: "details" | "failed" }) {
  const base = `${subscriptionsPath(project)}/${enc(id)}`;
  const sub = useAsync(() => api.get<Subscription>(base), [base]);
  const counts = useAsync(() => api.get<Counts>(`${base}/notificationCounts`), [base]);
  if (sub.error) return <ErrorBox error={sub.error} />;
  if (!sub.data) return <Loading what="the subscription" />;
  const s = sub.data;
  const refresh = () => {
    sub.reload();
    counts.reload();
  };
  return (
    <section>
      <p class="crumbs"><a href={href("p", project, "notifications")}>Notifications</a> ›</p>
      <div class="page-head">
        <h1><code>{s.eventCode}</code> subscription</h1>
        <SubscriptionActions project={project} sub={s} counts={counts.data} onChanged={refresh} onDeleted={() => go(href("p", project, "notifications"))} />
      </div>
      <div class="tabs" role="tablist" aria-label="Subscription">
        <a role="tab" aria-selected={tab === "details"} href={href("p", project, "notifications", id)}>Details</a>
        <a role="tab" aria-selected={tab === "failed"} href={href("p", project, "notifications", id, "failed")}>
          Delivery failed{counts.data ? ` (${counts.data.failed})` : ""}
        </a>
      </div>
      {tab === "details" ? <Details project={project} sub={s} counts={counts.data} /> : <DeliveryFailed project={project} sub={s} onChanged={counts.reload} />}
    </section>
  );
}

function Details({ project, sub, counts }: { project: string; sub: Subscription; counts?: Counts }) {
  const ch = useAsync(() => channel(sub.notificationChannelId), [sub.notificationChannelId]);
  const codes = useAsync(() => catalog(project), [project]);
  const known = codes.data?.items.find((c) => c.code === sub.eventCode);
  return (
    <div class="panel">
      <dl class="facts">
        <dt>Event</dt>
        <dd><code>{sub.eventCode}</code> {known ? `— ${known.description}` : sub.custom ? "(custom event)" : ""}</dd>
        <dt>Channel</dt>
        <dd>{ch.data ? <a href={href("channels", ch.data.id) + `?project=${enc(project)}`}>{describeChannel(ch.data)}</a> : "…"}</dd>
        <dt>Filter</dt>
        <dd>{sub.filterExpression ? <code class="wrap">{sub.filterExpression}</code> : "none (every event of the code)"}</dd>
        <dt>Format</dt>
        <dd>{sub.format ?? "channel's default (ica)"}{sub.payloadVersion ? ` · payload ${sub.payloadVersion}` : ""}{sub.ordered ? " · ordered" : ""}</dd>
        <dt>Enabled</dt>
        <dd>{sub.enabled ? "yes" : "no"}</dd>
        <dt>Open notifications</dt>
        <dd>{counts ? `${counts.pending} pending, ${counts.retryable} retrying, ${counts.failed} failed` : "…"}</dd>
        <dt>Created</dt>
        <dd><Time iso={sub.createdAt} /></dd>
        <dt>Id</dt>
        <dd><code>{sub.id}</code></dd>
      </dl>
      <SendTest project={project} sub={sub} />
    </div>
  );
}

export function SendTest({ project, sub }: { project: string; sub: Subscription }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const wildcard = sub.eventCode === "*";
  return (
    <form
      class="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          const sent = await api.post<{ id: string }>(`${subscriptionsPath(project)}/${enc(sub.id)}:sendTestEvent`, wildcard ? { eventCode: code } : {});
          go(href("p", project, "events", sent.id));
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      {wildcard ? (
        <Field id={`test-code-${sub.id}`} label="Test event code">
          <input id={`test-code-${sub.id}`} value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} required placeholder="ICA_EXEC_002" />
        </Field>
      ) : null}
      <button type="submit" disabled={busy}>Send a test event</button>
      <span class="muted small">Delivered to this subscription only, with the catalog's example payload; its filter is not evaluated.</span>
      <ErrorBox error={error} />
    </form>
  );
}

// --- the Delivery failed tab ---------------------------------------------------------------------
function DeliveryFailed({ project, sub, onChanged }: { project: string; sub: Subscription; onChanged: () => void }) {
  const base = `${subscriptionsPath(project)}/${enc(sub.id)}/failedNotifications`;
  const pages = useCursorPages((cursor) => api.get<Page<Notification>>(`${base}${query({ limit: 25, cursor })}`), [base]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [since, setSince] = useState(() => new Date(Date.now() - 86400_000).toISOString().slice(0, 16));
  const items = pages.data?.items ?? [];
  const refresh = () => {
    setSelected(new Set());
    pages.reload();
    onChanged();
  };
  const each = async (verb: "reprocess" | "delete", ids: string[]) => {
    setError(null);
    let done = 0;
    const failures: string[] = [];
    for (const nid of ids) {
      try {
        if (verb === "reprocess") await api.post(`${base}/${enc(nid)}:reprocess`);
        else await api.del(`${base}/${enc(nid)}`);
        done++;
      } catch (err) {
        failures.push(`${nid}: ${describe(err)}`);
      }
      setProgress(`${verb === "reprocess" ? "Reprocessing" : "Deleting"}: ${done + failures.length} of ${ids.length}`);
    }
    setProgress(`${verb === "reprocess" ? "Reprocessed" : "Deleted"} ${done} of ${ids.length}.`);
    if (failures.length) setError(new Error(failures.join("\n")));
    refresh();
  };
  const reprocessSince = async () => {
    setError(null);
    let total = 0;
    try {
      for (let round = 0; round < 1000; round++) {
        const answer = await api.post<{ reprocessed: number; more: boolean }>(`${base}:reprocess`, { since: new Date(since).toISOString() });
        total += answer.reprocessed;
        setProgress(`Reprocessing everything since ${new Date(since).toLocaleString()}: ${total} so far…`);
        if (!answer.more || !answer.reprocessed) break;
      }
      setProgress(`Reprocessed ${total} failed notification(s) since ${new Date(since).toLocaleString()}.`);
    } catch (err) {
      setError(err);
    }
    refresh();
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  return (
    <div class="panel">
      <div class="bulk">
        <button type="button" disabled={!selected.size} onClick={() => each("reprocess", [...selected])}>Reprocess selected ({selected.size})</button>
        <Confirm label={`Delete selected (${selected.size})`} confirm="Yes, delete them" danger disabled={!selected.size} onConfirm={() => each("delete", [...selected])} />
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); reprocessSince(); }}>
          <label for="since">Reprocess all failed since</label>
          <input id="since" type="datetime-local" value={since} onInput={(e) => setSince((e.target as HTMLInputElement).value)} required />
          <button type="submit">Reprocess all</button>
        </form>
      </div>
      {progress ? <p class="notice" role="status" data-testid="progress">{progress}</p> : null}
      <ErrorBox error={error} />
      <ErrorBox error={pages.error} />
      {pages.loading && !pages.data ? <Loading what="failed notifications" /> : null}
      {pages.data && !items.length ? <Empty>No failed notifications: nothing to reprocess.</Empty> : null}
      {items.length ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Failed notifications</caption>
            <thead>
              <tr>
                <th scope="col">
                  <input type="checkbox" aria-label="Select all on this page" checked={items.every((n) => selected.has(n.id))} onChange={(e) => setSelected((e.target as HTMLInputElement).checked ? new Set(items.map((n) => n.id)) : new Set())} />
                </th>
                <th scope="col">Event</th>
                <th scope="col">Last error</th>
                <th scope="col">Attempts</th>
                <th scope="col">Failed at</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((n) => (
                <FailedRow key={n.id} n={n} project={project} checked={selected.has(n.id)} onToggle={() => toggle(n.id)} onAction={(verb) => each(verb, [n.id])} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager pages={pages} label="Failed notifications" />
    </div>
  );
}

function FailedRow(props: { n: Notification; project: string; checked: boolean; onToggle: () => void; onAction: (verb: "reprocess" | "delete") => void }) {
  const { n } = props;
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr>
        <td><input type="checkbox" aria-label={`Select notification ${n.id}`} checked={props.checked} onChange={props.onToggle} /></td>
        <td><a href={href("p", props.project, "events", n.eventId)}><code>{n.eventId.slice(0, 8)}</code></a></td>
        <td class="wrap">{n.lastError ?? "—"}</td>
        <td>
          <button type="button" class="link" aria-expanded={open} onClick={() => setOpen(!open)}>
            {n.attempts.length} attempt{n.attempts.length === 1 ? "" : "s"}{n.cycle > 1 ? ` (cycle ${n.cycle})` : ""}
          </button>
        </td>
        <td><Time iso={n.updatedAt} /></td>
        <td class="actions">
          <button type="button" onClick={() => props.onAction("reprocess")}>Reprocess</button>
          <Confirm label="Delete" confirm="Yes, delete" danger onConfirm={() => props.onAction("delete")} />
        </td>
      </tr>
      {open ? (
        <tr class="detail">
          <td colSpan={6}>
            <Timeline attempts={n.attempts} />
            {n.previousCycles.map((c) => (
              <details key={c.cycle}>
                <summary>Cycle {c.cycle}: {c.status}, ended <Time iso={c.endedAt} /></summary>
                <Timeline attempts={c.attempts} />
              </details>
            ))}
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** Attempts on a timeline: when, how long after the first, the answer or error, the duration. */
export function Timeline({ attempts }: { attempts: Attempt[] }) {
  if (!attempts.length) return <p class="muted small">No attempt yet.</p>;
  const start = new Date(attempts[0].at).getTime();
  const longest = Math.max(...attempts.map((a) => a.durationMs), 1);
  return (
    <ol class="timeline">
      {attempts.map((a, i) => (
        <li key={i} class={a.success ? "ok" : "fail"}>
          <span class="dot" aria-hidden="true" />
          <span class="when"><Time iso={a.at} /> <span class="muted">(+{formatOffset(new Date(a.at).getTime() - start)})</span></span>
          <span class="outcome">{a.success ? "delivered" : "failed"}{a.httpStatus ? ` · HTTP ${a.httpStatus}` : ""}</span>
          {a.error && a.error !== `HTTP ${a.httpStatus}` ? <span class="err wrap">{a.error}</span> : null}
          <span class="duration">
            <span class="bar" style={{ width: `${Math.max(4, (a.durationMs / longest) * 120)}px` }} aria-hidden="true" />
            {a.durationMs} ms
          </span>
          {a.responseExcerpt ? (
            <pre class="excerpt" aria-label="Response body (excerpt)">{a.responseExcerpt}</pre>
          ) : null}
        </li>
      ))}
    </ol>
  );
}

function formatOffset(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = s / 60;
  if (m < 120) return `${m.toFixed(1)} min`;
  return `${(m / 60).toFixed(1)} h`;
}
