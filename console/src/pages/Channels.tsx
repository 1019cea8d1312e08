import { useState } from "preact/hooks";
import { api, enc, query, type Channel, type Health, type Page } from "../api";
import { Chart, type Series } from "../chart";
import { forgetChannel } from "../data";
import { href } from "../router";
import { Confirm, Empty, ErrorBox, Loading, Pager, Secret, Status, Time, useAsync, useCursorPages } from "../ui";

export function ChannelsPage() {
  const pages = useCursorPages((cursor) => api.get<Page<Channel>>(`/api/notificationChannels${query({ limit: 20, cursor })}`), []);
  return (
    <section>
      <h1>Channels</h1>
      <p class="muted">Where deliveries go, and how each endpoint is doing.</p>
      <ErrorBox error={pages.error} />
      {pages.loading && !pages.data ? <Loading what="channels" /> : null}
      {pages.data && !pages.data.items.length ? <Empty>No channels yet: one is made with a subscription.</Empty> : null}
      {pages.data?.items.length ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Channels</caption>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Address</th>
                <th scope="col">Enabled</th>
                <th scope="col">Health</th>
                <th scope="col">Failure rate</th>
                <th scope="col">Failing since</th>
                <th scope="col">Next probe</th>
              </tr>
            </thead>
            <tbody>
              {pages.data.items.map((c) => <ChannelRow key={c.id} c={c} />)}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager pages={pages} label="Channels" />
    </section>
  );
}

function ChannelRow({ c }: { c: Channel }) {
  const health = useAsync(() => api.get<Health>(`/api/notificationChannels/${enc(c.id)}/health`), [c.id]);
  const h = health.data;
  return (
    <tr>
      <td>{c.type}</td>
      <td class="wrap"><a href={href("channels", c.id)}>{c.address}</a></td>
      <td>{c.enabled ? <Status status="enabled" /> : <span><Status status="disabled" /> <span class="small wrap">{c.disabledReason}</span></span>}</td>
      <td>{h ? <Status status={h.state} /> : "…"}</td>
      <td>{h ? `${Math.round(h.failureRate * 100)} % of ${h.windowAttempts}` : "…"}</td>
      <td>{h ? <Time iso={h.failingSince} /> : "…"}</td>
      <td>{h ? <Time iso={h.nextProbeAt} /> : "…"}</td>
    </tr>
  );
}

const RANGES: [string, number][] = [
  ["1 hour", 3600],
  ["6 hours", 6 * 3600],
  ["24 hours", 86400],
  ["7 days", 7 * 86400],
];

interface Stats {
  step: number;
  points: { at: string; succeeded: number; failed: number; meanLatencyMs: number | null; p95LatencyMs: number | null }[];
}

export function ChannelPage({ id, project }: { id: string; project?: string }) {
  const base = `/api/notificationChannels/${enc(id)}`;
  const ch = useAsync(() => api.get<Channel>(base), [base]);
  const health = useAsync(() => api.get<Health>(`${base}/health`), [base]);
  const [range, setRange] = useState(3600);
  const stats = useAsync(() => api.get<Stats>(`${base}/stats${query({ since: new Date(Date.now() - range * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") })}`), [base, range]);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  if (ch.error) return <ErrorBox error={ch.error} />;
  if (!ch.data) return <Loading what="the channel" />;
  const c = ch.data;
  const h = health.data;
  const series: Series | null = stats.data
    ? {
        at: stats.data.points.map((p) => new Date(p.at).getTime() / 1000),
        succeeded: stats.data.points.map((p) => p.succeeded),
        failed: stats.data.points.map((p) => p.failed),
        latency: stats.data.points.map((p) => p.meanLatencyMs),
        p95: stats.data.points.map((p) => p.p95LatencyMs),
      }
    : null;
  const totals = stats.data?.points.reduce((t, p) => ({ ok: t.ok + p.succeeded, bad: t.bad + p.failed }), { ok: 0, bad: 0 });
  return (
    <section>
      <p class="crumbs"><a href={href("channels") + (project ? `?project=${enc(project)}` : "")}>Channels</a> ›</p>
      <div class="page-head">
        <h1 class="wrap">{c.type} <span class="address">{c.address}</span></h1>
        <div class="actions">
          {!c.enabled ? (
            <button
              type="button"
              class="primary"
              onClick={async () => {
                setError(null);
                try {
                  await api.patch(base, { enabled: true });
                  forgetChannel(id);
                  ch.reload();
                  health.reload();
                } catch (err) {
                  setError(err);
                }
              }}
            >
              Re-enable
            </button>
          ) : null}
          <Confirm
            label="Rotate secret"
            confirm="Yes, make a new secret"
            onConfirm={async () => {
              setError(null);
              try {
                const rotated = await api.post<Channel>(`${base}:rotateSecret`);
                setSecret(rotated.secret ?? null);
                ch.reload();
              } catch (err) {
                setError(err);
              }
            }}
          />
        </div>
      </div>
      <ErrorBox error={error} />
      {secret ? (
        <Secret value={secret}>
          The new signing secret, shown only now. For the next 24 hours every delivery is signed with both the new and the previous secret (two signatures in
          <code> webhook-signature</code>), so receivers keep verifying while you switch them over; after that only the new one signs. Rotating again within the 24 hours ends the previous secret's overlap.
        </Secret>
      ) : null}
      <div class="columns">
        <div class="panel">
          <dl class="facts">
            <dt>Enabled</dt>
            <dd>{c.enabled ? "yes" : <>no — <span class="wrap">{c.disabledReason ?? "disabled by a user"}</span> (<Time iso={c.disabledAt} />)</>}</dd>
            <dt>Circuit</dt>
            <dd>{h ? <><Status status={h.state} /> {h.state === "open" ? <>next probe <Time iso={h.nextProbeAt} /></> : null}</> : "…"}</dd>
            <dt>Failure rate</dt>
            <dd>{h ? `${Math.round(h.failureRate * 100)} % of ${h.windowAttempts} recent attempts; ${h.consecutiveFailures} failed in a row` : "…"}</dd>
            <dt>Failing since</dt>
            <dd>{h ? <Time iso={h.failingSince} /> : "…"}</dd>
            <dt>Last error</dt>
            <dd class="wrap">{h?.lastError ?? <span class="muted">—</span>}</dd>
            {h?.pausedUntil ? (<><dt>Paused until</dt><dd><Time iso={h.pausedUntil} /></dd></>) : null}
            <dt>Format</dt>
            <dd>{c.format ?? "ica"}{c.rateLimitPerSecond ? ` · at most ${c.rateLimitPerSecond}/s` : ""}{c.timeoutSeconds ? ` · timeout ${c.timeoutSeconds} s` : ""}</dd>
            {c.previousSecretExpiresAt ? (<><dt>Previous secret</dt><dd>still signs until <Time iso={c.previousSecretExpiresAt} /></dd></>) : null}
            <dt>Projects</dt>
            <dd>{c.projects.join(", ") || <span class="muted">none (admin keys only)</span>}</dd>
            <dt>Id</dt>
            <dd><code>{c.id}</code></dd>
          </dl>
        </div>
        <div class="panel">
          <div class="page-head">
            <h2>Attempts over time</h2>
            <label class="inline">
              Range{" "}
              <select value={range} onChange={(e) => setRange(Number((e.target as HTMLSelectElement).value))}>
                {RANGES.map(([label, seconds]) => <option value={seconds} key={seconds}>{label}</option>)}
              </select>
            </label>
          </div>
          <ErrorBox error={stats.error} />
          {series ? <Chart series={series} /> : <Loading what="attempts" />}
          {totals ? (
            <p class="muted small" data-testid="attempt-totals">
              {totals.ok} succeeded, {totals.bad} failed in this range (per {stats.data!.step / 60} min).
            </p>
          ) : null}
        </div>
      </div>
    </section>
  );
}
