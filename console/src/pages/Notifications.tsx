import { api, enc, query, type Channel, type Counts, type Page, type Subscription } from "../api";
import { catalog, channel, describeChannel } from "../data";
import { href } from "../router";
import { SubscriptionActions } from "./Subscription";
import { Empty, ErrorBox, Loading, Pager, Status, useAsync, useCursorPages } from "../ui";

export const subscriptionsPath = (project: string) => `/api/projects/${enc(project)}/notificationSubscriptions`;

export function NotificationsPage({ project }: { project: string }) {
  const pages = useCursorPages(
    (cursor) => api.get<Page<Subscription>>(`${subscriptionsPath(project)}${query({ limit: 20, cursor })}`),
    [project],
  );
  const codes = useAsync(() => catalog(project), [project]);
  const descriptions = new Map((codes.data?.items ?? []).map((c) => [c.code, c.description]));
  return (
    <section>
      <div class="page-head">
        <h1>Notifications <span class="muted">· {project}</span></h1>
        <div class="actions">
          <a class="button primary" href={href("p", project, "notifications", "new", "ica")}>+ Create ICA event</a>
          <a class="button" href={href("p", project, "notifications", "new", "custom")}>+ Create Custom event</a>
        </div>
      </div>
      <p class="muted">Subscriptions of this project: which events go where. A subscription can be deleted only when none of its notifications is pending or failed.</p>
      <ErrorBox error={pages.error} />
      {pages.loading && !pages.data ? <Loading what="subscriptions" /> : null}
      {pages.data && !pages.data.items.length ? <Empty>No subscriptions yet. Create one with “+ Create ICA event”.</Empty> : null}
      {pages.data?.items.length ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Subscriptions of project {project}</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Channel</th>
                <th scope="col">Filter</th>
                <th scope="col">Format</th>
                <th scope="col">Enabled</th>
                <th scope="col">Pending</th>
                <th scope="col">Failed</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {pages.data.items.map((sub) => (
                <SubscriptionRow key={sub.id + String(sub.enabled)} sub={sub} project={project} description={descriptions.get(sub.eventCode)} onChanged={pages.reload} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager pages={pages} label="Subscriptions" />
    </section>
  );
}

function SubscriptionRow({ sub, project, description, onChanged }: { sub: Subscription; project: string; description?: string; onChanged: () => void }) {
  const ch = useAsync<Channel>(() => channel(sub.notificationChannelId), [sub.notificationChannelId]);
  const counts = useAsync<Counts>(() => api.get(`${subscriptionsPath(project)}/${enc(sub.id)}/notificationCounts`), [sub.id]);
  return (
    <tr>
      <td>
        <a href={href("p", project, "notifications", sub.id)}>
          <code>{sub.eventCode}</code>
        </a>
        <div class="muted small">{description ?? (sub.custom ? "Custom event" : sub.eventCode === "*" ? "Every event" : "")}</div>
      </td>
      <td class="wrap">{ch.data ? describeChannel(ch.data) : ch.error ? "(not visible)" : "…"}</td>
      <td class="wrap">{sub.filterExpression ? <code>{sub.filterExpression}</code> : <span class="muted">none</span>}</td>
      <td>{[sub.format ?? "ica", sub.payloadVersion].filter(Boolean).join(" · ")}</td>
      <td>{sub.enabled ? <Status status="enabled" /> : <Status status="disabled" />}</td>
      <td>{counts.data ? counts.data.pending + counts.data.retryable : "…"}</td>
      <td>
        {counts.data ? (
          counts.data.failed ? (
            <a href={href("p", project, "notifications", sub.id, "failed")}>{counts.data.failed}</a>
          ) : (
            0
          )
        ) : (
          "…"
        )}
      </td>
      <td>
        <SubscriptionActions project={project} sub={sub} counts={counts.data} onChanged={onChanged} onDeleted={onChanged} />
      </td>
    </tr>
  );
}
