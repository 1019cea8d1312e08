import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { catalog } from "../data";
import { ErrorBox, Json, Loading, useAsync } from "../ui";

export function CatalogPage({ project }: { project?: string }) {
  const codes = useAsync(() => catalog(project), [project]);
  const [open, setOpen] = useState<string | null>(null);
  if (codes.error) return <ErrorBox error={codes.error} />;
  if (!codes.data) return <Loading what="the event catalog" />;
  return (
    <section>
      <h1>Event catalog</h1>
      <p class="muted">Every event code a subscription can name: ICA's, One Codex's and Herald's own{project ? `, and project ${project}'s custom codes` : ""}.</p>
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Event codes</caption>
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Description</th>
              <th scope="col">Payload</th>
              <th scope="col">Platform</th>
              <th scope="col">Example</th>
            </tr>
          </thead>
          <tbody>
            {codes.data.items.map((c) => (
              <Fragment key={c.code}>
                <tr>
                  <td><code>{c.code}</code></td>
                  <td class="wrap">{c.description}<div class="muted small">{c.details}</div></td>
                  <td>{c.payloadType}</td>
                  <td>{c.platform}</td>
                  <td>
                    <button type="button" class="link" aria-expanded={open === c.code} onClick={() => setOpen(open === c.code ? null : c.code)}>
                      {open === c.code ? "Hide" : "Show"} example
                    </button>
                  </td>
                </tr>
                {open === c.code ? (
                  <tr class="detail">
                    <td colSpan={5}><Json value={c.examplePayload} label={`Example payload of ${c.code}`} /></td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
      {codes.data.customCodes.length ? (
        <>
          <h2>Custom codes of {project}</h2>
          <ul class="choices">{codes.data.customCodes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
        </>
      ) : null}
    </section>
  );
}
