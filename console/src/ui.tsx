// Shared pieces. Everything from the API (payloads, errors, addresses, filters) is rendered as
// text children, which Preact sets as text nodes: it can never become markup.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type Page } from "./api";

export function useAsync<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ data: s.data, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Pages of a cursor-paged list: only the current page is held, however long the list. */
export function useCursorPages<T>(load: (cursor: string | null) => Promise<Page<T>>, deps: unknown[]) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  useEffect(() => setCursors([null]), deps); // a new query starts at its first page
  const current = cursors[cursors.length - 1];
  const result = useAsync(() => load(current), [...deps, current]);
  return {
    ...result,
    pageNumber: cursors.length,
    hasPrev: cursors.length > 1,
    hasNext: Boolean(result.data?.nextCursor),
    next: () => result.data?.nextCursor && setCursors([...cursors, result.data.nextCursor]),
    prev: () => cursors.length > 1 && setCursors(cursors.slice(0, -1)),
  };
}

export function Pager(props: { pages: { pageNumber: number; hasPrev: boolean; hasNext: boolean; next: () => unknown; prev: () => unknown; loading: boolean }; label: string }) {
  const { pages } = props;
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" onClick={() => pages.prev()} disabled={!pages.hasPrev || pages.loading}>
        ← Previous
      </button>
      <span>Page {pages.pageNumber}</span>
      <button type="button" onClick={() => pages.next()} disabled={!pages.hasNext || pages.loading}>
        Next →
      </button>
    </nav>
  );
}

export function describe(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {describe(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return <span>{iso}</span>;
  return (
    <time dateTime={iso} title={iso}>
      {date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })}
    </time>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`badge badge-${status.replace(/[^a-z-]/g, "")}`}>{status}</span>;
}

export function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre class="json" tabIndex={0} aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard (an insecure origin): the text is selectable right beside the button.
    }
    setDone(true);
    setTimeout(() => setDone(false), 2000);
  };
  return (
    <button type="button" class="copy" onClick={copy}>
      {done ? "Copied" : label}
    </button>
  );
}

export function Secret({ value, children }: { value: string; children: ComponentChildren }) {
  return (
    <div class="secret" role="status">
      <div class="secret-value">
        <code data-testid="secret">{value}</code>
        <CopyButton text={value} />
      </div>
      <p>{children}</p>
    </div>
  );
}

/** An action that asks once more inline (no browser dialog). */
export function Confirm(props: {
  label: string;
  confirm: string;
  onConfirm: () => Promise<unknown> | unknown;
  disabled?: boolean;
  danger?: boolean;
  title?: string;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button type="button" class={props.danger ? "danger" : ""} disabled={props.disabled} title={props.title} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  return (
    <span class="confirm">
      <button
        ref={yes}
        type="button"
        class={props.danger ? "danger" : "primary"}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await props.onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {props.confirm}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function Field(props: { id: string; label: string; hint?: ComponentChildren; error?: string | null; children: ComponentChildren }) {
  return (
    <div class={`field${props.error ? " invalid" : ""}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint ? (
        <div class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </div>
      ) : null}
      {props.error ? (
        <pre class="field-error" id={`${props.id}-error`} role="alert">
          {props.error}
        </pre>
      ) : null}
    </div>
  );
}

export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export function fieldError(error: unknown, field: string): string | null {
  return error instanceof ApiError && error.field === field ? error.message : null;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}
