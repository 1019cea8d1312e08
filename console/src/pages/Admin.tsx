import { useState } from "preact/hooks";
import { api, enc, query, type ApiKeyInfo, type Page } from "../api";
import { Confirm, ErrorBox, Field, Loading, Pager, Secret, Time, fieldError, useCursorPages } from "../ui";

export function Admin() {
  const pages = useCursorPages((cursor) => api.get<Page<ApiKeyInfo>>(`/api/keys${query({ limit: 20, cursor })}`), []);
  const [name, setName] = useState("");
  const [projects, setProjects] = useState("");
  const [admin, setAdmin] = useState(false);
  const [created, setCreated] = useState<ApiKeyInfo | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [rowError, setRowError] = useState<unknown>(null);
  return (
    <section>
      <h1>API keys</h1>
      <p class="muted">A key sees and changes only its projects; an admin key sees everything and manages keys. Herald stores keys as SHA-256 hashes: a key is shown once, when it is created.</p>
      <form
        class="panel form"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            const key = await api.post<ApiKeyInfo>("/api/keys", {
              name: name.trim(),
              projects: projects.split(/[\s,]+/).filter(Boolean),
              admin,
            });
            setCreated(key);
            setName("");
            setProjects("");
            setAdmin(false);
            pages.reload();
          } catch (err) {
            setError(err);
          }
        }}
      >
        <h2>Create a key</h2>
        <Field id="key-name" label="Name" hint="Who or what uses it, e.g. “lims-prod”." error={fieldError(error, "name")}>
          <input id="key-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} maxLength={100} />
        </Field>
        <Field id="key-projects" label="Projects" hint="Comma-separated project ids." error={fieldError(error, "projects")}>
          <input id="key-projects" value={projects} onInput={(e) => setProjects((e.target as HTMLInputElement).value)} placeholder="demo, other" />
        </Field>
        <label class="check"><input type="checkbox" checked={admin} onChange={(e) => setAdmin((e.target as HTMLInputElement).checked)} /> Admin (every project, and key management)</label>
        <ErrorBox error={error} />
        <div class="actions"><button class="primary" type="submit">Create key</button></div>
      </form>
      {created?.key ? (
        <Secret value={created.key}>
          The new key{created.name ? ` “${created.name}”` : ""} ({created.keyId}), shown only now: Herald keeps only its hash. Send it as the <code>X-API-Key</code> header.
        </Secret>
      ) : null}
      <ErrorBox error={pages.error ?? rowError} />
      {pages.loading && !pages.data ? <Loading what="keys" /> : null}
      {pages.data ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Key id</th>
                <th scope="col">Name</th>
                <th scope="col">Projects</th>
                <th scope="col">Admin</th>
                <th scope="col">Created</th>
                <th scope="col">Revoke</th>
              </tr>
            </thead>
            <tbody>
              {pages.data.items.map((k) => (
                <tr key={k.keyId}>
                  <td><code>{k.keyId}</code></td>
                  <td>{k.name}</td>
                  <td class="wrap">{k.projects.join(", ") || <span class="muted">—</span>}</td>
                  <td>{k.admin ? "yes" : "no"}</td>
                  <td><Time iso={k.createdAt} /></td>
                  <td>
                    <Confirm
                      label="Revoke"
                      confirm={`Yes, revoke ${k.keyId}`}
                      danger
                      onConfirm={async () => {
                        setRowError(null);
                        try {
                          await api.del(`/api/keys/${enc(k.keyId)}`);
                          pages.reload();
                        } catch (err) {
                          setRowError(err);
                        }
                      }}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager pages={pages} label="Keys" />
    </section>
  );
}
