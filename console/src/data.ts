// Reads the pages share, cached for the session's tab: the catalog and channels by id.
import { api, enc, query, type Catalog, type Channel, type Page } from "./api";

const catalogs = new Map<string, Promise<Catalog>>();
const channels = new Map<string, Promise<Channel>>();

export function catalog(project?: string): Promise<Catalog> {
  const key = project ?? "";
  if (!catalogs.has(key)) {
    const loading = api.get<Catalog>(`/api/eventCodes${query({ project })}`);
    loading.catch(() => catalogs.delete(key));
    catalogs.set(key, loading);
  }
  return catalogs.get(key)!;
}

export function forgetCatalog(): void {
  catalogs.clear();
}

export function channel(id: string): Promise<Channel> {
  if (!channels.has(id)) {
    const loading = api.get<Channel>(`/api/notificationChannels/${enc(id)}`);
    loading.catch(() => channels.delete(id));
    channels.set(id, loading);
  }
  return channels.get(id)!;
}

export function forgetChannel(id?: string): void {
  if (id) channels.delete(id);
  else channels.clear();
}

/** Every channel the session may use (for pickers): pages of 100, at most 20 of them. */
export async function allChannels(): Promise<Channel[]> {
  const out: Channel[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 20; i++) {
    const page: Page<Channel> = await api.get<Page<Channel>>(`/api/notificationChannels${query({ limit: 100, cursor })}`);
    out.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return out;
}

export function describeChannel(c: Channel): string {
  return `${c.type} ${c.address}`;
}
