import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { forget, signInWithLink, signOut, storedIdentity, whenSignedOut, type Identity } from "./api";
import { forgetCatalog, forgetChannel } from "./data";
import { Admin } from "./pages/Admin";
import { CatalogPage } from "./pages/Catalog";
import { ChannelPage, ChannelsPage } from "./pages/Channels";
import { EventPage, EventsPage } from "./pages/Events";
import { NotificationsPage } from "./pages/Notifications";
import { SignIn } from "./pages/SignIn";
import { SubscriptionPage } from "./pages/Subscription";
import { CreateSubscription } from "./pages/CreateSubscription";
import { go, href, useRoute } from "./router";
import { describe } from "./ui";
import "./styles.css";

const RECENT = "herald.projects";

function recentProjects(): string[] {
  try {
    return JSON.parse(sessionStorage.getItem(RECENT) ?? "[]") as string[];
  } catch {
    return [];
  }
}

function rememberProject(project: string): void {
  const list = [project, ...recentProjects().filter((p) => p !== project)].slice(0, 10);
  sessionStorage.setItem(RECENT, JSON.stringify(list));
}

// A one-time link carries its token after '#link='. It is read once, removed from the address bar
// (and history) before anything else runs, and exchanged for a session.
const linkToken = (() => {
  const match = /^#link=([A-Za-z0-9_\-]+)$/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return match[1];
})();

function App() {
  const [identity, setIdentity] = useState<Identity | null>(linkToken ? null : storedIdentity());
  const [notice, setNotice] = useState<string | null>(null);
  const [linking, setLinking] = useState(Boolean(linkToken));
  const route = useRoute();

  useEffect(() => {
    whenSignedOut((reason) => {
      setIdentity(null);
      setNotice(`Signed out: ${reason}`);
    });
    if (linkToken) {
      signInWithLink(linkToken).then(
        (who) => {
          setIdentity(who);
          setLinking(false);
          go(who.project ? href("p", who.project, "notifications") : href());
        },
        (error) => {
          setLinking(false);
          setNotice(`The console link did not work: ${describe(error)}`);
        },
      );
    }
  }, []);

  const signedIn = (who: Identity) => {
    forgetCatalog();
    forgetChannel();
    setNotice(null);
    setIdentity(who);
    const only = who.project ?? (!who.admin && who.projects.length === 1 ? who.projects[0] : null);
    go(only ? href("p", only, "notifications") : href());
  };

  if (linking) return <main class="centered"><p aria-live="polite">Signing in with the console link…</p></main>;
  if (!identity) return <SignIn onSignedIn={signedIn} notice={notice} />;

  const [first, second, third, fourth, fifth] = route.path;
  const project = first === "p" ? second : undefined;
  if (project) rememberProject(project);
  const projectChoices = identity.admin ? recentProjects() : identity.projects;

  let page;
  if (first === "p" && project) {
    if (third === "notifications" && fourth === "new") page = <CreateSubscription project={project} kind={fifth === "custom" ? "custom" : "ica"} />;
    else if (third === "notifications" && fourth) page = <SubscriptionPage project={project} id={fourth} tab={fifth === "failed" ? "failed" : "details"} />;
    else if (third === "events" && fourth) page = <EventPage project={project} id={fourth} />;
    else if (third === "events") page = <EventsPage project={project} params={route.params} />;
    else page = <NotificationsPage project={project} />;
  } else if (first === "channels" && second) page = <ChannelPage id={second} project={route.params.get("project") ?? undefined} />;
  else if (first === "channels") page = <ChannelsPage />;
  else if (first === "catalog") page = <CatalogPage project={route.params.get("project") ?? undefined} />;
  else if (first === "admin" && identity.admin) page = <Admin />;
  else page = <ProjectPicker identity={identity} recent={recentProjects()} />;

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href()}>Herald Console</a>
        <ProjectSwitch current={project} choices={projectChoices} admin={identity.admin} />
        <nav aria-label="Sections">
          {project ? (
            <>
              <a href={href("p", project, "notifications")} aria-current={third === "notifications" || !third ? "page" : undefined}>Notifications</a>
              <a href={href("p", project, "events")} aria-current={third === "events" ? "page" : undefined}>Events</a>
            </>
          ) : null}
          <a href={href("channels") + (project ? `?project=${encodeURIComponent(project)}` : "")} aria-current={first === "channels" ? "page" : undefined}>Channels</a>
          <a href={href("catalog") + (project ? `?project=${encodeURIComponent(project)}` : "")} aria-current={first === "catalog" ? "page" : undefined}>Event catalog</a>
          {identity.admin ? <a href={href("admin")} aria-current={first === "admin" ? "page" : undefined}>Admin</a> : null}
        </nav>
        <div class="who">
          <span title={`key ${identity.keyId}`}>{identity.name || identity.keyId}{identity.admin ? " (admin)" : ""}</span>
          {identity.expiresAt ? (
            <span class="muted" title={`session ends ${identity.expiresAt}`}>
              · ends {new Date(identity.expiresAt).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}
            </span>
          ) : null}
          <button
            type="button"
            onClick={async () => {
              await signOut().catch(() => forget());
              setIdentity(null);
              setNotice("Signed out.");
              go(href());
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>{page}</main>
    </>
  );
}

function ProjectSwitch({ current, choices, admin }: { current?: string; choices: string[]; admin: boolean }) {
  const options = current && !choices.includes(current) ? [current, ...choices] : choices;
  if (!admin && options.length <= 1) return current ? <span class="project">Project <strong>{current}</strong></span> : null;
  return (
    <form
      class="project"
      onSubmit={(e) => {
        e.preventDefault();
        const value = (e.currentTarget.elements.namedItem("project") as HTMLInputElement).value.trim();
        if (value) go(href("p", value, "notifications"));
      }}
    >
      <label for="project-switch">Project</label>
      {admin ? (
        <>
          <input id="project-switch" name="project" list="project-list" value={current ?? ""} key={current} placeholder="project id" required />
          <datalist id="project-list">{options.map((p) => <option value={p} key={p} />)}</datalist>
          <button type="submit">Open</button>
        </>
      ) : (
        <select id="project-switch" name="project" value={current ?? ""} onChange={(e) => go(href("p", (e.target as HTMLSelectElement).value, "notifications"))}>
          {!current ? <option value="">Choose…</option> : null}
          {options.map((p) => <option value={p} key={p}>{p}</option>)}
        </select>
      )}
    </form>
  );
}

function ProjectPicker({ identity, recent }: { identity: Identity; recent: string[] }) {
  const [value, setValue] = useState("");
  const choices = identity.admin ? recent : identity.projects;
  return (
    <section class="panel narrow">
      <h1>Choose a project</h1>
      {choices.length ? (
        <ul class="choices">
          {choices.map((p) => (
            <li key={p}><a href={href("p", p, "notifications")}>{p}</a></li>
          ))}
        </ul>
      ) : null}
      {identity.admin ? (
        <form onSubmit={(e) => { e.preventDefault(); if (value.trim()) go(href("p", value.trim(), "notifications")); }}>
          <div class="field">
            <label for="project-id">Project id</label>
            <input id="project-id" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} placeholder="demo" required pattern="[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}" />
            <div class="hint">This admin key may open any project.</div>
          </div>
          <button class="primary" type="submit">Open project</button>
        </form>
      ) : null}
    </section>
  );
}

render(<App />, document.getElementById("app")!);
